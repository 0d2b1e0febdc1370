"""Settings: flags > environment (NL2SQL_*, OPENAI_*) > nl2sql.toml > defaults.

`nl2sql.toml` is read from the working directory, then from the user config directory.
A `.env` file in the working directory is loaded into the environment first (it never
overrides variables that are already set). Each effective value remembers where it came from,
so `nl2sql config` can show it, with secrets masked.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nl2sql.errors import ConfigError, did_you_mean


@dataclasses.dataclass(frozen=True)
class Field:
    """One setting: its type, default, environment variables (first wins) and secrecy."""

    name: str
    type: type
    default: Any
    env: tuple[str, ...] = ()
    secret: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()


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
    Field("temperature", float, 0.0, ("NL2SQL_TEMPERATURE",), help="sampling temperature"),
    Field("max_tokens", int, 1024, ("NL2SQL_MAX_TOKENS",), help="max tokens per model reply"),
    Field("request_timeout", float, 60.0, ("NL2SQL_REQUEST_TIMEOUT",), help="seconds per model call"),
    Field("retries", int, 3, ("NL2SQL_RETRIES",), help="retries on 429/5xx/timeouts"),
    Field("max_repairs", int, 2, ("NL2SQL_MAX_REPAIRS",), help="SQL repair rounds after an error"),
    Field("max_rows", int, 1000, ("NL2SQL_MAX_ROWS",), help="row cap per query"),
    Field("timeout", float, 30.0, ("NL2SQL_TIMEOUT",), help="seconds a query may run"),
    Field("memory_limit", str, "1GB", ("NL2SQL_MEMORY_LIMIT",), help="DuckDB memory limit per query"),
    Field("threads", int, 2, ("NL2SQL_THREADS",), help="DuckDB threads"),
    Field("privacy", str, "rows", ("NL2SQL_PRIVACY",), help="what the model may see",
          choices=("schema", "stats", "rows")),
    Field("cache", bool, True, ("NL2SQL_CACHE",), help="cache model replies on disk"),
    Field("budget", float, None, ("NL2SQL_BUDGET",), help="refuse runs estimated above this (USD)"),
    Field("moderation", bool, False, ("NL2SQL_MODERATION",), help="check questions first"),
    Field("home", str, None, ("NL2SQL_HOME",), help="data dir for history, cache and sessions"),
    Field("as_of", str, None, ("NL2SQL_AS_OF",), help="date that 'last week', 'this year' count from "
          "(default: the data's latest date)"),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
TOML_NAME = "nl2sql.toml"


@dataclasses.dataclass
class Settings:
    """The effective settings, plus where each value came from."""

    values: dict[str, Any]
    sources: dict[str, str]
    prices: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def masked(self) -> dict[str, Any]:
        """Values with secrets masked: safe to print or log."""
        return {name: mask(value) if FIELD_BY_NAME[name].secret else value
                for name, value in self.values.items()}

    @property
    def home_dir(self) -> Path:
        """Where history, cache, sessions and profiles live (NL2SQL_HOME overrides)."""
        if self.values.get("home"):
            return Path(self.values["home"]).expanduser()
        import platformdirs

        return Path(platformdirs.user_data_dir("nl2sql", appauthor=False))


def mask(secret: Any) -> str | None:
    """Show that a secret is set without revealing it."""
    if not secret:
        return None
    text = str(secret)
    return "****" + text[-4:] if len(text) >= 12 else "****"


def _coerce(field: Field, raw: Any, where: str) -> Any:
    if raw is None:
        return None
    try:
        if field.type is bool:
            if isinstance(raw, bool):
                value: Any = raw
            elif str(raw).strip().lower() in {"1", "true", "yes", "on"}:
                value = True
            elif str(raw).strip().lower() in {"0", "false", "no", "off", ""}:
                value = False
            else:
                raise ValueError(raw)
        elif field.type is str:
            value = str(raw)
        else:
            value = field.type(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"Setting '{field.name}' from {where} must be {field.type.__name__}, got {raw!r}.",
            hint=f"Fix {where}; '{field.name}' is the {field.help}.",
        ) from None
    if field.choices and value not in field.choices:
        raise ConfigError(
            f"Setting '{field.name}' from {where} must be one of {', '.join(field.choices)}; got {value!r}.",
            hint=did_you_mean(str(value), field.choices),
        )
    return value


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
    return Settings(values=values, sources=sources, prices=prices)
