"""Where the bundled prompts, schemas and sample data are, in a checkout or an installed wheel.

In a source checkout (and an editable install) they are the top-level `prompts/`, `schemas/`
and `sample_data/shop/`; in a wheel they ship inside the package as `_prompts`, `_schemas`
and `_shop` (see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # nl2sql/
_LAYOUT = {"prompts": ("_prompts", "prompts"), "schemas": ("_schemas", "schemas"),
           "shop": ("_shop", "sample_data/shop")}


def bundled(kind: str) -> Path:
    """The bundled directory of `kind` ('prompts', 'schemas' or 'shop')."""
    packaged, checkout = _LAYOUT[kind]
    inside = _PACKAGE / packaged
    if inside.is_dir() and any(inside.iterdir()):
        return inside
    return _PACKAGE.parent / checkout
