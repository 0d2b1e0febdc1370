"""Templates: one jinja2 factory for the prompts and the report (StrictUndefined, override dirs first).

Prompts render from `<prompts_dir>/<name>.j2`, then the bundled `prompts/`; the report's
templates from `<prompts_dir>/report/`, then the bundled `prompts/report/`. A missing variable
is an error, never a blank.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nl2sql.core.errors import ConfigError
from nl2sql.core.resources import bundled

TEMPLATES = ("system", "write_sql", "repair_sql", "narrate")


def environment(override_dir: str | Path | None, subdir: str = "", html: bool = False,
                require_override: bool = True) -> Any:
    """A jinja2 Environment over `<override>/<subdir>` (when given) then the bundled prompts.

    `html` turns autoescaping on for `*.html.j2`; `require_override` makes a missing override
    folder a configuration error (prompts), rather than silently using the bundled ones.
    """
    import jinja2

    dirs = []
    if override_dir:
        path = Path(override_dir).expanduser() / subdir
        if path.is_dir():
            dirs.append(str(path))
        elif require_override:
            raise ConfigError(f"Prompts directory not found: {override_dir}.",
                              hint="Point --prompts-dir at a folder of *.j2 templates.")
    dirs.append(str(bundled("prompts") / subdir))
    autoescape = jinja2.select_autoescape(["html.j2"], default_for_string=False, default=False) if html else False
    return jinja2.Environment(loader=jinja2.FileSystemLoader(dirs), undefined=jinja2.StrictUndefined,
                              autoescape=autoescape, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=html)


def render(env: Any, name: str, context: dict[str, Any], what: str = "Prompt template") -> str:
    """Render template `name` of `env`; every template failure is a ConfigError a person can act on."""
    import jinja2

    try:
        return str(env.get_template(name).render(**context))
    except jinja2.TemplateNotFound:
        raise ConfigError(f"{what} {name} not found.", hint="Check --prompts-dir.") from None
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"{what} {name} uses an unknown variable: {exc.message}.",
                          hint="Fix the template in --prompts-dir.") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{what} {name} has a syntax error at line {exc.lineno}: {exc.message}.",
                          hint="Fix the template.") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{what} {name} failed: {exc}.", hint="Fix the template override.") from None


class Prompts:
    """Renders the prompt `<name>.j2` from the override directory first, then the bundled prompts."""

    def __init__(self, override_dir: str | Path | None = None) -> None:
        self.env = environment(override_dir)
        self.directory = Path(self.env.loader.searchpath[0])

    def render(self, name: str, **context: Any) -> str:
        """Render template `name` (without .j2); missing variables are errors, not blanks."""
        return render(self.env, f"{name}.j2", context).strip()
