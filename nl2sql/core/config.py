"""Settings: flags > environment (NL2SQL_*, OPENAI_*) > nl2sql.toml > defaults.

`nl2sql.toml` is read from the working directory, then from the user config directory.
A `.env` file in the working directory is loaded into the environment first (it never
overrides variables that are already set). Each effective value remembers where it came from,
so `nl2sql config` can show it, with secrets masked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nl2sql.core.errors import ConfigError, did_you_mean
from nl2sql.core.values import parse_date, parse_size


@dataclasses.dataclass(frozen=True)
class Field:
    """One setting: its type, default, environment variables (first wins), secrecy and bounds."""

    name: str
    type: type
    default: Any
    env: tuple[str, ...] = ()
    secret: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None  # numbers: the smallest value allowed
    maximum: float | Callable[[], float] | None = None  # the largest (a callable: decided by the machine)


def _max_threads() -> float:
    return (os.cpu_count() or 1) * 4


MAX_ROWS = 10_000_000  # the most rows a query may fetch (each is held in memory)
FIELDS: tuple[Field, ...] = (
    Field("db", str, None, ("NL2SQL_DB",), help="DuckDB file, data file/glob or folder (default: bundled shop)"),
    Field("schema", str, None, ("NL2SQL_SCHEMA",), help="annotation YAML (default: schemas/<db name>.yaml)"),
    Field("schemas_dir", str, None, ("NL2SQL_SCHEMAS_DIR",), help="where schemas/<name>.yaml are looked up"),
    Field("prompts_dir", str, None, ("NL2SQL_PROMPTS_DIR",), help="override the prompt templates"),
    Field("backend", str, "auto", ("NL2SQL_BACKEND",), help="openai, offline or auto",
          choices=("auto", "openai", "offline")),
    Field("model", str, "gpt-4o-mini", ("NL2SQL_MODEL", "OPENAI_MODEL"), help="model name"),
    Field("base_url", str, None, ("NL2SQL_BASE_URL", "OPENAI_BASE_URL"),
          help="OpenAI-compatible endpoint"),
    Field("api_key", str, None, ("NL2SQL_API_KEY", "OPENAI_API_KEY"), secret=True, help="API key"),
    Field("temperature", float, 0.0, ("NL2SQL_TEMPERATURE",), help="sampling temperature", minimum=0, maximum=2),
    Field("max_tokens", int, 1024, ("NL2SQL_MAX_TOKENS",), help="max tokens per model reply", minimum=1,
          maximum=1_000_000),
    Field("request_timeout", float, 60.0, ("NL2SQL_REQUEST_TIMEOUT",), help="seconds per model call",
          minimum=0.001, maximum=86_400),
    Field("retries", int, 3, ("NL2SQL_RETRIES",), help="retries on 429/5xx/timeouts", minimum=0, maximum=20),
    Field("max_repairs", int, 2, ("NL2SQL_MAX_REPAIRS",), help="SQL repair rounds after an error", minimum=0,
          maximum=10),
    Field("max_rows", int, 1000, ("NL2SQL_MAX_ROWS",), help="row cap per query", minimum=1, maximum=MAX_ROWS),
    Field("timeout", float, 30.0, ("NL2SQL_TIMEOUT",), help="seconds a query may run", minimum=0.001,
          maximum=86_400),
    Field("memory_limit", str, "1GB", ("NL2SQL_MEMORY_LIMIT",), help="DuckDB memory limit per query"),
    Field("threads", int, 2, ("NL2SQL_THREADS",), help="DuckDB threads", minimum=1, maximum=_max_threads),
    Field("privacy", str, "rows", ("NL2SQL_PRIVACY",), help="what the model may see",
          choices=("schema", "stats", "rows")),
    Field("cache", bool, True, ("NL2SQL_CACHE",), help="cache model replies on disk"),
    Field("budget", float, None, ("NL2SQL_BUDGET",), help="refuse runs estimated above this (USD)", minimum=0,
          maximum=1_000_000),
    Field("moderation", bool, False, ("NL2SQL_MODERATION",), help="check questions first"),
    Field("home", str, None, ("NL2SQL_HOME",), help="data dir for history, cache and sessions"),
    Field("as_of", str, None, ("NL2SQL_AS_OF",), help="date that 'last week', 'this year' count from "
          "(default: the data's latest date)"),
    Field("mcp_sampling", bool, False, ("NL2SQL_MCP_SAMPLING",), help="`nl2sql mcp`: ask the client's model "
          "(MCP sampling) to write SQL and narrate"),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
TOML_NAME = "nl2sql.toml"


@dataclasses.dataclass(frozen=True)
class Settings:
    """The effective settings (typed and frozen), plus where each value came from."""

    db: str | None = None
    schema: str | None = None
    schemas_dir: str | None = None
    prompts_dir: str | None = None
    backend: str = "auto"
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: str | None = None
    temperature: float = 0.0
    max_tokens: int = 1024
    request_timeout: float = 60.0
    retries: int = 3
    max_repairs: int = 2
    max_rows: int = 1000
    timeout: float = 30.0
    memory_limit: str = "1GB"
    threads: int = 2
    privacy: str = "rows"
    cache: bool = True
    budget: float | None = None
    moderation: bool = False
    home: str | None = None
    as_of: str | None = None
    mcp_sampling: bool = False
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)
    prices: Mapping[str, Mapping[str, float]] = dataclasses.field(default_factory=dict, compare=False)

    def values(self) -> dict[str, Any]:
        """Every setting by name (no sources, no prices)."""
        return {f.name: getattr(self, f.name) for f in FIELDS}

    def masked(self) -> dict[str, Any]:
        """Values with secrets masked: safe to print or log."""
        return {name: mask(value) if FIELD_BY_NAME[name].secret else value
                for name, value in self.values().items()}

    def source(self, name: str) -> str:
        """Where the value of setting `name` came from: flag, env VAR, a file, or default."""
        return self.sources.get(name, "default")

    @property
    def home_dir(self) -> Path:
        """Where history, cache, sessions and profiles live (NL2SQL_HOME overrides)."""
        if self.home:
            return Path(self.home).expanduser()
        import platformdirs

        return Path(platformdirs.user_data_dir("nl2sql", appauthor=False))

    @property
    def as_of_date(self) -> dt.date | None:
        """The as_of setting as a date (validated when the settings were loaded), or None."""
        return parse_date(self.as_of) if self.as_of else None


def mask(secret: Any) -> str | None:
    """Show that a secret is set without revealing it."""
    if not secret:
        return None
    text = str(secret)
    return "****" + text[-4:] if len(text) >= 12 else "****"


def _bad(field: Field, where: str, message: str) -> ConfigError:
    return ConfigError(f"Setting '{field.name}' from {where} {message}",
                       hint=f"Fix {where}; '{field.name}' is the {field.help}.")


def _parse_bool(field: Field, raw: Any, where: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if isinstance(raw, str) and text in {"1", "true", "yes", "on"}:
        return True
    if isinstance(raw, str) and text in {"0", "false", "no", "off", ""}:
        return False
    raise _bad(field, where, f"must be true or false, got {raw!r}.")


def _parse_number(field: Field, raw: Any, where: str) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise _bad(field, where, f"must be a number, got {raw!r}.")
    try:
        value: int | float = field.type(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError, OverflowError):
        raise _bad(field, where, f"must be {'a whole number' if field.type is int else 'a number'}, "
                                 f"got {raw!r}.") from None
    if field.type is int and isinstance(raw, float) and raw != value:
        raise _bad(field, where, f"must be a whole number, got {raw!r}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise _bad(field, where, f"must be a finite number, got {raw!r}.")
    maximum = field.maximum() if callable(field.maximum) else field.maximum
    if field.minimum is not None and value < field.minimum:
        raise _bad(field, where, f"must be at least {field.minimum:g}, got {value!r}.")
    if maximum is not None and value > maximum:
        raise _bad(field, where, f"must be at most {maximum:g}, got {value!r}.")
    return value


def _coerce(field: Field, raw: Any, where: str) -> Any:
    if raw is None:
        return None
    if field.type is bool:
        value: Any = _parse_bool(field, raw, where)
    elif field.type is str:
        if isinstance(raw, bool | dict | list):
            raise _bad(field, where, f"must be text, got {raw!r}.")
        value = str(raw)
    else:
        value = _parse_number(field, raw, where)
    if field.choices and value not in field.choices:
        raise ConfigError(
            f"Setting '{field.name}' from {where} must be one of {', '.join(field.choices)}; got {value!r}.",
            hint=did_you_mean(str(value), field.choices),
        )
    _check_text(field, value, where)
    return value


def _check_text(field: Field, value: Any, where: str) -> None:
    """Settings whose text has a shape: a size, a date."""
    if field.name == "memory_limit":
        try:
            parse_size(value)
        except ValueError:
            raise ConfigError(f"Setting 'memory_limit' from {where}: {value!r} is not a size.",
                              hint="Use a number with a unit, e.g. 512MB or 2GB.") from None
    if field.name == "as_of":
        try:
            parse_date(value)
        except ValueError:
            raise ConfigError(f"Setting 'as_of' from {where}: {value!r} is not a date.",
                              hint="Use YYYY-MM-DD, e.g. 2025-12-31.") from None


def _user_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("nl2sql", appauthor=False))


def toml_files(cwd: Path | None = None) -> list[Path]:
    """The nl2sql.toml files that exist, highest precedence first."""
    candidates = [(cwd or Path.cwd()) / TOML_NAME, _user_config_dir() / TOML_NAME]
    return [p for p in candidates if p.is_file()]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}.", hint="Fix the line it names.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from None
    # settings may sit at the top level or under [nl2sql]
    if isinstance(data.get("nl2sql"), dict):
        section = data.pop("nl2sql")
        data = {**data, **section}
    return data


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    read_dotenv: bool = True,
) -> Settings:
    """Resolve every setting by precedence: flags > env > nl2sql.toml files > defaults.

    `flags` holds only the options a user actually passed (None means not given).
    """
    if env is None:
        if read_dotenv:
            from dotenv import load_dotenv

            load_dotenv((cwd or Path.cwd()) / ".env", override=False)
        env = os.environ
    values = {f.name: f.default for f in FIELDS}
    sources = {f.name: "default" for f in FIELDS}
    prices: dict[str, dict[str, float]] = {}

    for path in reversed(toml_files(cwd)):  # lowest precedence first, later ones win
        data = _read_toml(path)
        for key, raw in data.items():
            if key == "prices":
                if not isinstance(raw, dict):
                    raise ConfigError(f"[prices] in {path} must be a table of model = {{input, output}}.")
                prices.update(raw)
                continue
            field = FIELD_BY_NAME.get(key)
            if field is None:
                raise ConfigError(
                    f"Unknown setting '{key}' in {path}.",
                    hint=did_you_mean(key, FIELD_BY_NAME) or f"Known settings: {', '.join(FIELD_BY_NAME)}.",
                )
            if field.secret:
                raise ConfigError(
                    f"{path} holds '{key}'. Keep secrets out of files that may be committed.",
                    hint="Set OPENAI_API_KEY in the environment or in a .env file instead.",
                )
            values[key] = _coerce(field, raw, str(path))
            sources[key] = str(path)

    for field in FIELDS:
        for var in field.env:
            if env.get(var) not in (None, ""):
                values[field.name] = _coerce(field, env[var], f"${var}")
                sources[field.name] = f"env {var}"
                break

    for key, raw in (flags or {}).items():
        if raw is None:
            continue
        field = FIELD_BY_NAME[key]
        values[key] = _coerce(field, raw, f"--{key.replace('_', '-')}")
        sources[key] = "flag"
    return Settings(**values, sources=sources, prices=prices)


def override(settings: Settings, **values: Any) -> Settings:
    """`settings` with some values replaced, each checked as a flag would be (None leaves one as it is)."""
    changed: dict[str, Any] = {}
    for key, raw in values.items():
        field = FIELD_BY_NAME.get(key)
        if field is None:
            raise ConfigError(f"Unknown setting '{key}'.", hint=did_you_mean(key, FIELD_BY_NAME))
        if raw is not None:
            changed[key] = _coerce(field, raw, f"argument {key}")
    sources = {**settings.sources, **{k: "argument" for k in changed}}
    return dataclasses.replace(settings, **changed, sources=sources)
