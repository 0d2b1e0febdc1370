"""Rich renderables for the terminal. Used by cli.py only; the core never prints."""

from __future__ import annotations

from typing import Any

from nl2sql.catalog import Catalog, Column


def _column_line(c: Column) -> str:
    from rich.markup import escape

    parts = [f"[bold]{escape(c.name)}[/] [cyan]{escape(c.type)}[/]"]
    if c.primary_key:
        parts.append("[yellow]PK[/]")
    if c.pii:
        parts.append("[red]PII[/]")
    if c.description:
        parts.append(f"— {escape(c.description)}")
    values = c.known_values()
    if values and not c.pii:
        shown = ", ".join(values[:8]) + (" …" if len(values) > 8 else "")
        parts.append(f"[dim]values: {escape(shown)}[/]")
    elif c.profile.min is not None and (c.is_numeric or c.is_temporal):
        parts.append(f"[dim]{escape(str(c.profile.min))} … {escape(str(c.profile.max))}[/]")
    if c.profile.null_share:
        parts.append(f"[dim]{c.profile.null_share:.0%} null[/]")
    return " ".join(parts)


def catalog_tree(catalog: Catalog) -> Any:
    """The catalog as a rich Tree: tables with columns, then relationships and metrics."""
    from rich.markup import escape
    from rich.tree import Tree

    title = f"[bold]{escape(catalog.name)}[/]"
    if catalog.annotation_path:
        title += f" [dim](annotations: {escape(catalog.annotation_path)})[/]"
    root = Tree(title)
    for t in catalog.tables:
        label = f"[bold green]{escape(t.name)}[/] [dim]{t.row_count:,} rows[/]"
        if t.description:
            label += f" — {escape(t.description)}"
        node = root.add(label)
        for c in t.columns:
            node.add(_column_line(c))
    if catalog.relationships:
        rels = root.add("[bold]relationships[/]")
        for r in catalog.relationships:
            rels.add(f"{escape(str(r))} [dim]({r.origin})[/]")
    if catalog.metrics:
        metrics = root.add("[bold]metrics[/]")
        for m in catalog.metrics:
            line = f"[bold magenta]{escape(m.name)}[/] = {escape(m.sql)}"
            if m.filter:
                line += f" [dim]where {escape(m.filter)}[/]"
            if m.description:
                line += f"\n  [dim]{escape(m.description)}[/]"
            metrics.add(line)
    if catalog.examples:
        root.add(f"[bold]examples[/] [dim]{len(catalog.examples)} verified question → SQL pairs[/]")
    return root
