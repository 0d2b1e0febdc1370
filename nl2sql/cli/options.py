"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Db = Annotated[str | None, typer.Option("--db", help="DuckDB file, CSV/Parquet/JSON file or glob, or a folder of "
                                        "them. Default: the bundled shop data.")]
Schema = Annotated[str | None, typer.Option("--schema", help="Annotation YAML (semantic layer). Default: "
                                            "schemas/<db name>.yaml when present.")]
SchemasDir = Annotated[str | None, typer.Option("--schemas-dir", help="Where to look for schemas/<name>.yaml.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a rich view.")]
Backend = Annotated[str | None, typer.Option("--backend", help="openai, offline or auto (default: auto).")]
Model = Annotated[str | None, typer.Option("--model", help="Model name (default: gpt-4o-mini).")]
BaseUrl = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint.")]
Privacy = Annotated[str | None, typer.Option("--privacy", help="What a model may see: schema, stats or rows "
                                             "(default: rows).")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="Date that 'last week', 'this year' count from "
                                          "(default: the data's latest date).")]
Timeout = Annotated[float | None, typer.Option("--timeout", help="Seconds a query may run (default: 30).")]
MaxRows = Annotated[int | None, typer.Option("--max-rows", help="Row cap (default: 1000).")]
MemoryLimit = Annotated[str | None, typer.Option("--memory-limit", help="DuckDB memory limit (default: 1GB).")]
PromptsDir = Annotated[str | None, typer.Option("--prompts-dir", help="Override the prompt templates.")]
Format = Annotated[str | None, typer.Option("--format", help="Write every row (no row cap; within --timeout and "
                                            "--memory-limit) as csv, json, markdown or parquet.")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write the rows to FILE (the format follows "
                                             "its extension unless --format says).")]
