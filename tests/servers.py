"""Real database servers for tests: PostgreSQL and Spark Connect URLs, or a clean pytest skip.

Plain functions and one context manager, no fixtures: a conftest or a test module wraps them.

    from tests.servers import postgres_url, spark_url, services

    url = postgres_url()                 # superuser, database shop (the worst misconfiguration)
    url = postgres_url("ro")             # nl2sql_ro: CONNECT + USAGE + SELECT only
    url = postgres_url("rw")             # nl2sql_rw: also INSERT/UPDATE on the shop tables
    url = postgres_url("ro", "broker")   # any sql-eval database (academic, advising, atis, broker, ...)
    remote = spark_url()                 # sc://127.0.0.1:PORT, shop tables in database default

Where a URL comes from, first match wins:
1. the environment, as printed by `bash .ci/services.sh env`: NL2SQL_TEST_PG_URL, NL2SQL_TEST_PG_RO_URL,
   NL2SQL_TEST_PG_RW_URL, NL2SQL_TEST_PG_BASE, NL2SQL_TEST_SPARK_URL;
2. servers that .ci/services.sh already runs for this checkout (left running: they are not ours to stop);
3. servers started now through .ci/services.sh, when what they need is installed (PostgreSQL: initdb and
   pg_ctl, psycopg; Spark: java 17+, pyspark with its jars) and NL2SQL_TEST_START_SERVERS is not 0. The
   processes of one test run (e.g. xdist workers) share them; the last process to exit stops them;
4. otherwise pytest.skip, with the reason.

For a whole session, wrap the run in `services()` in the main process (in xdist, the controller, before
workers start: they inherit the environment it sets), e.g. in a conftest:

    def pytest_configure(config):
        if not hasattr(config, "workerinput"):
            config._servers = servers.services()
            config._servers.__enter__()

    def pytest_unconfigure(config):
        if hasattr(config, "_servers"):
            config._servers.__exit__(None, None, None)

Only 127.0.0.1 is ever used.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import glob
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
SERVICES_SH = REPO / ".ci" / "services.sh"
START_TIMEOUT = 900

PG_ENV = {"super": "NL2SQL_TEST_PG_URL", "ro": "NL2SQL_TEST_PG_RO_URL", "rw": "NL2SQL_TEST_PG_RW_URL"}
SPARK_ENV = "NL2SQL_TEST_SPARK_URL"
# set by services() when a service could not be had, so that every process skips with the same reason
UNAVAILABLE_ENV = {"postgres": "NL2SQL_TEST_PG_UNAVAILABLE", "spark": "NL2SQL_TEST_SPARK_UNAVAILABLE"}
KEY_ENV = {"postgres": PG_ENV["super"], "spark": SPARK_ENV}


# ------------------------------------------------------------------------------------------ public API

def postgres_url(kind: str = "super", database: str = "shop") -> str:
    """URL of the test PostgreSQL server as role `kind` ("super", "ro" or "rw") on `database`; skips if none."""
    if kind not in PG_ENV:
        raise ValueError(f"kind must be one of {sorted(PG_ENV)}, not {kind!r}")
    _need("postgres")
    url = os.environ.get(PG_ENV[kind])
    if not url:
        pytest.skip(f"{PG_ENV[kind]} is not set")
    return _with_database(url, database)


def spark_url() -> str:
    """sc:// URL of the test Spark Connect server (shop tables in database default); skips if none."""
    _need("spark")
    return os.environ[SPARK_ENV]


def available(service: str) -> str | None:
    """None when `service` ("postgres" or "spark") can be had without starting anything new,
    or can be started here; otherwise the reason it cannot."""
    if os.environ.get(KEY_ENV[service]):
        return None
    if os.environ.get(UNAVAILABLE_ENV[service]):
        return os.environ[UNAVAILABLE_ENV[service]]
    return _missing(service)


@contextlib.contextmanager
def services(which: tuple[str, ...] = ("postgres", "spark")) -> Iterator[dict[str, str]]:
    """Servers for a whole test session: yields the NL2SQL_TEST_* variables that are set.

    Services already given by the environment or already running for this checkout are used as they are.
    Others are started in a private state dir (so a developer's own servers are never touched), their
    variables put into os.environ for this process and its children, and stopped on exit. A service
    that cannot be had is recorded with its reason, so that its URL helpers skip without trying again.
    """
    state = tempfile.mkdtemp(prefix="nl2sql-test-services-")
    started: list[str] = []
    saved = {k: v for k, v in os.environ.items() if k.startswith("NL2SQL_TEST_")}
    try:
        for service in which:
            if os.environ.get(KEY_ENV[service]):
                continue
            running = _services_env(service)  # this checkout's servers, started by hand
            if running:
                os.environ.update(running)
                continue
            reason = _missing(service)
            if reason is None:
                proc = _run_services("start", service, env={"NL2SQL_SERVICES_DIR": state})
                if proc.returncode == 0:
                    started.append(service)
                    os.environ.update(_parse_exports(proc.stdout))
                    continue
                reason = f"could not start {service}: {_tail(proc.stderr)}"
                warnings.warn(reason, stacklevel=2)
            os.environ[UNAVAILABLE_ENV[service]] = reason
        os.environ["NL2SQL_TEST_START_SERVERS"] = "0"  # decided here, once for all processes
        yield {k: v for k, v in os.environ.items() if k.startswith("NL2SQL_TEST_")}
    finally:
        if started:
            _run_services("stop", "all", env={"NL2SQL_SERVICES_DIR": state})
        shutil.rmtree(state, ignore_errors=True)
        for key in [k for k in os.environ if k.startswith("NL2SQL_TEST_")]:
            del os.environ[key]
        os.environ.update(saved)


# ------------------------------------------------------------------------------------------- internals

def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def _need(service: str) -> None:
    """Make sure the service's variables are in os.environ, or skip."""
    if os.environ.get(KEY_ENV[service]):
        return
    if os.environ.get(UNAVAILABLE_ENV[service]):
        pytest.skip(os.environ[UNAVAILABLE_ENV[service]])
    running = _services_env(service)
    if running:
        os.environ.update(running)
        return
    if os.environ.get("NL2SQL_TEST_START_SERVERS", "1") == "0":
        pytest.skip(f"no {service} server: {KEY_ENV[service]} is not set and starting one is off "
                    "(NL2SQL_TEST_START_SERVERS=0)")
    reason = _missing(service)
    if reason:
        pytest.skip(reason)
    reason = _Shared.start(service)
    if reason:
        os.environ[UNAVAILABLE_ENV[service]] = reason  # do not try again in this process
        pytest.skip(reason)


def _pg_bindir() -> str | None:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return str(Path(initdb).resolve().parent)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parts[-3].split(".")])
    return str(Path(found[-1]).parent) if found else None


def _missing(service: str) -> str | None:
    """Why `service` cannot be started on this machine, or None."""
    if not SERVICES_SH.is_file():
        return f"{SERVICES_SH} is missing"
    if service == "postgres":
        if _pg_bindir() is None:
            return "PostgreSQL is not installed (no initdb/pg_ctl; apt-get install postgresql)"
        for mod, pip in (("psycopg", "psycopg[binary]"), ("duckdb", "duckdb")):
            if importlib.util.find_spec(mod) is None:
                return f"{mod} is not installed (pip install '{pip}')"
        if os.geteuid() == 0 and not shutil.which("runuser"):
            return "running as root without runuser: PostgreSQL cannot be started"
        return None
    if service == "spark":
        if not shutil.which("java"):
            return "no java for Spark Connect (apt-get install openjdk-17-jre-headless)"
        spec = importlib.util.find_spec("pyspark")
        if spec is None or spec.origin is None:
            return "pyspark is not installed (pip install 'pyspark[connect]==4.3.0')"
        home = Path(spec.origin).parent
        if not glob.glob(str(home / "jars" / "spark-connect_*.jar")):
            return f"{home} has no Spark Connect server jar (the full pyspark package is needed)"
        if importlib.util.find_spec("grpc") is None:
            return "the Spark Connect client needs pyspark[connect] (grpcio, pyarrow, pandas, ...)"
        return None
    raise ValueError(f"unknown service {service!r}")


def _run_services(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHON": sys.executable, "NL2SQL_SERVICES_PIP": "0", **(env or {})}
    return subprocess.run(["bash", str(SERVICES_SH), *args], capture_output=True, text=True, env=full,
                          stdin=subprocess.DEVNULL, timeout=START_TIMEOUT, check=False)


def _parse_exports(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line.startswith("export ") and "=" in line:
            name, _, value = line[len("export "):].partition("=")
            out[name] = value.strip("'")
    return out


def _services_env(service: str) -> dict[str, str]:
    """The variables of this checkout's running `service`, or {}."""
    if not SERVICES_SH.is_file():
        return {}
    env = _parse_exports(_run_services("env").stdout)
    return env if env.get(KEY_ENV[service]) else {}


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


class _Shared:
    """Servers started on demand by a test process, shared with the other processes of the run.

    Every process that uses them holds a shared lock on <state>.users for as long as it lives; at exit,
    the process that can take that lock exclusively is the last user and stops what was started on demand
    (marked by <state>/on-demand-<service>). Servers started by hand carry no mark and are never stopped.
    """

    users = None  # the open lock file, held shared until exit
    state: Path | None = None

    @classmethod
    def _hold(cls) -> None:
        if cls.users is not None:
            return
        state = Path(_run_services("dir").stdout.strip())
        path = Path(f"{state}.users")
        while True:  # a last user may unlink the file while we wait: then take the new one
            f = open(path, "a+")  # noqa: SIM115 - held for the life of the process
            fcntl.flock(f, fcntl.LOCK_SH)
            try:
                if os.stat(path).st_ino == os.fstat(f.fileno()).st_ino:
                    break
            except FileNotFoundError:
                pass
            f.close()
        cls.users, cls.state = f, state
        atexit.register(cls._release)

    @classmethod
    def start(cls, service: str) -> str | None:
        cls._hold()
        proc = _run_services("start", service)
        if proc.returncode != 0:
            return f"could not start {service} with {SERVICES_SH.name}: {_tail(proc.stderr)}"
        env = _parse_exports(proc.stdout)
        if not env.get(KEY_ENV[service]):
            return f"{SERVICES_SH.name} start {service} printed no {KEY_ENV[service]}"
        assert cls.state is not None
        if "already running" not in proc.stderr:
            (cls.state / f"on-demand-{service}").touch()
        os.environ.update(env)
        return None

    @classmethod
    def _release(cls) -> None:
        if cls.users is None or cls.state is None:
            return
        path = Path(cls.users.name)
        cls.users.close()
        cls.users = None
        try:
            f = open(path, "a+")  # noqa: SIM115
        except OSError:
            return
        with f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another process still uses the servers
            marks = [m for m in ("postgres", "spark") if (cls.state / f"on-demand-{m}").exists()]
            for service in marks:
                _run_services("stop", service)
                (cls.state / f"on-demand-{service}").unlink(missing_ok=True)
            if marks and not cls.state.exists():
                path.unlink(missing_ok=True)
