"""Prompt templates: a jinja2 Environment over prompts/ (StrictUndefined), with an override dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nl2sql.errors import ConfigError
from nl2sql.resources import bundled

TEMPLATES = ("system", "write_sql", "repair_sql", "narrate")


class Prompts:
    """Renders `<name>.j2` from the override directory first, then the bundled prompts."""

    def __init__(self, override_dir: str | Path | None = None) -> None:
        import jinja2

        dirs = []
        if override_dir:
            path = Path(override_dir).expanduser()
            if not path.is_dir():
                raise ConfigError(f"Prompts directory not found: {override_dir}.",
                                  hint="Point --prompts-dir at a folder of *.j2 templates.")
            dirs.append(str(path))
        dirs.append(str(bundled("prompts")))
        self.directory = Path(dirs[0])
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(dirs), undefined=jinja2.StrictUndefined,
                                      autoescape=False, keep_trailing_newline=False, trim_blocks=True,
                                      lstrip_blocks=True)

    def render(self, name: str, **context: Any) -> str:
        """Render template `name` (without .j2); missing variables are errors, not blanks."""
        import jinja2

        try:
            return self.env.get_template(f"{name}.j2").render(**context).strip()
        except jinja2.TemplateNotFound:
            raise ConfigError(f"Prompt template {name}.j2 not found.", hint="Check --prompts-dir.") from None
        except jinja2.UndefinedError as exc:
            raise ConfigError(f"Prompt template {name}.j2 uses an unknown variable: {exc.message}.",
                              hint="Fix the template in --prompts-dir.") from None
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"Prompt template {name}.j2 has a syntax error at line {exc.lineno}: {exc.message}.",
                              hint="Fix the template.") from None
