"""`nl2sql mcp`: the guarded pipeline as a Model Context Protocol server, for agents and editors.

Serves over stdio (what Claude Desktop and most clients start) or, with `--http`, the streamable
HTTP transport on the loopback interface only (there is no authentication). The tools are
`nl2sql.jobs.agent.Agent`'s: the same guard, sandbox, limits, privacy tier and audit log as the
CLI. This module only speaks the protocol: it turns the agent's plain data into tool results and
its errors into tool errors. The `mcp` SDK is imported here and nowhere else, so no other
command pays for it.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import signal
import socket
import sys
import traceback
import warnings
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
import typer
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import CallToolResult, ImageContent, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import Field

from nl2sql import __version__
from nl2sql.backends.sampling import ReplyNeeded, SamplingBackend
from nl2sql.cli import options
from nl2sql.cli.app import handle_errors, load, sub_app
from nl2sql.cli.mcp_sampling import SamplingBridge, can_sample
from nl2sql.cli.mcp_text import instructions, tool_descriptions
from nl2sql.core.config import Settings
from nl2sql.core.errors import Nl2SqlError, UsageError
from nl2sql.jobs.agent import RESULT_ROWS, Agent

mcp_app = sub_app("Serve the guarded pipeline to agents and editors over the Model Context Protocol.")

LOOPBACK = ("127.0.0.1", "localhost", "::1")
Result = TypeVar("Result")
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
ASKS = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=False)


def error_result(err: Nl2SqlError) -> CallToolResult:
    """A tool error: what went wrong and what to do next, as text and as the DESIGN §5 error object."""
    data = err.to_dict()
    if data["hint"]:  # hints written for the shell name its commands; an agent has tools
        data["hint"] = data["hint"].replace("`nl2sql schema`", "list_tables")
    text = f"{data['type']}: {data['message']}" + (f"\nHint: {data['hint']}" if data["hint"] else "")
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content={"error": data},
                          is_error=True)


def data_result(data: dict[str, Any], png: bytes | None = None) -> CallToolResult:
    """A tool result: the data as JSON text and as structured content, and the chart as an image."""
    content: list[Any] = [TextContent(type="text", text=json.dumps(data, ensure_ascii=False, default=str))]
    if png is not None:
        content.append(ImageContent(type="image", data=base64.b64encode(png).decode("ascii"), mime_type="image/png"))
    return CallToolResult(content=content, structured_content=data)


class Tools:
    """The MCP tools over one Agent. Each runs in a worker thread (the SDK's way with plain functions)."""

    def __init__(self, agent: Agent, settings: Settings) -> None:
        self.agent = agent
        self.settings = settings
        self._problems_shown = 0

    def _run(self, work: Callable[[], Result]) -> Result | CallToolResult:
        try:
            return work()
        except Nl2SqlError as err:
            return error_result(err)
        except Exception as exc:  # a bug: say so briefly; NL2SQL_DEBUG=1 puts the traceback on stderr
            if os.environ.get("NL2SQL_DEBUG"):
                traceback.print_exc(file=sys.stderr)
            return error_result(Nl2SqlError(f"Internal error: {type(exc).__name__}",
                                            hint="This is a bug in nl2sql. Run the server with NL2SQL_DEBUG=1 "
                                            "to see the traceback on its stderr, and report it."))
        finally:
            self._show_problems()

    def _show_problems(self) -> None:
        """Side problems (an audit log that could not be written) on stderr: the client's server log."""
        problems = self.agent.ws.problems
        for line in dict.fromkeys(problems[self._problems_shown:]):
            print(f"nl2sql: {line}", file=sys.stderr)
        self._problems_shown = len(problems)

    def list_tables(self) -> CallToolResult:
        return self._run(lambda: data_result(self.agent.list_tables()))

    def describe_table(self, name: Annotated[str, Field(description="A table name from list_tables.")]
                       ) -> CallToolResult:
        return self._run(lambda: data_result(self.agent.describe_table(name)))

    def list_metrics(self) -> CallToolResult:
        return self._run(lambda: data_result(self.agent.list_metrics()))

    def run_sql(self, sql: Annotated[str, Field(description="One read-only SELECT (or WITH … SELECT) query in "
                                                "DuckDB SQL over the tables of list_tables.")]) -> CallToolResult:
        return self._run(lambda: data_result(self.agent.run_sql(sql)))

    def explain(self, answer_id: Annotated[str, Field(description="The answer_id an ask call returned, e.g. a1.")]
                ) -> CallToolResult:
        return self._run(lambda: data_result(self.agent.explain(answer_id)))

    def ask(
        self,
        ctx: Context,
        question: Annotated[str, Field(description="The question in plain English or Chinese, with every filter "
                                       "and period it needs (each question stands alone).")],
        chart: Annotated[bool, Field(description="Also return the chart as a PNG image.")] = False,
        chart_type: Annotated[str | None, Field(description="Draw the chart as bar, barh, line, area, scatter, "
                                                "pie or histogram instead of the chosen type.")] = None,
    ) -> CallToolResult | InputRequiredResult:
        def work() -> CallToolResult | InputRequiredResult:
            bridge = SamplingBridge(ctx, self.settings.temperature) if self.sampling(ctx) else None
            backend = SamplingBackend(self.settings, bridge.complete) if bridge is not None else None
            try:
                data, png = self.agent.ask(question, backend=backend, chart=chart, chart_type=chart_type)
            except ReplyNeeded as need:  # only the sampling backend needs a reply from the client
                assert bridge is not None
                return bridge.ask_client(need)
            if self.settings.mcp_sampling and bridge is None:
                data["warnings"].append("This client does not offer sampling; nl2sql's own backend "
                                        f"({data['backend']}) answered.")
            return data_result(data, png)

        return self._run(work)

    def sampling(self, ctx: Context) -> bool:
        """True when asks go to the client's model: the setting is on and the client can sample."""
        return self.settings.mcp_sampling and can_sample(ctx)


def resource_text(read: Callable[[], Any]) -> Callable[[], str]:
    """A resource reader whose errors reach the client as resource errors with their message."""
    def reader() -> str:
        try:
            value = read()
        except Nl2SqlError as err:
            raise ResourceError(err.message + (f" {err.hint}" if err.hint else "")) from None
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)

    return reader


def build_server(agent: Agent, settings: Settings, result_rows: int) -> MCPServer:
    """The MCP server: six tools and two resources over `agent`."""
    warnings.filterwarnings("ignore", category=MCPDeprecationWarning)  # sampling is deprecated in 2026-07-28
    server: MCPServer = MCPServer("nl2sql", version=__version__, log_level="WARNING",
                                  instructions=instructions(settings))
    tools = Tools(agent, settings)
    described = tool_descriptions(settings, result_rows)
    for name, fn in (("list_tables", tools.list_tables), ("describe_table", tools.describe_table),
                     ("list_metrics", tools.list_metrics), ("ask", tools.ask), ("run_sql", tools.run_sql),
                     ("explain", tools.explain)):
        server.add_tool(fn, name=name, description=described[name], structured_output=False,
                        annotations=ASKS if name == "ask" else READ_ONLY)
    server.resource("nl2sql://schema", name="schema", mime_type="text/plain",
                    description="The tables as CREATE TABLE statements with comments (meaning, synonyms and, "
                    "as the privacy tier allows, sample values and ranges), then the relationships."
                    )(resource_text(agent.schema_text))
    server.resource("nl2sql://semantic-layer", name="semantic-layer", mime_type="application/json",
                    description="The semantic layer: table and column meanings, synonyms, values (per the privacy "
                    "tier), relationships, metric definitions and verified question/SQL examples."
                    )(resource_text(agent.semantic_layer))
    return server


def parse_http(value: str) -> tuple[str, int]:
    """(host, port) from --http PORT, HOST:PORT or [::1]:PORT; only loopback hosts are allowed."""
    host, _, port_text = value.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise UsageError(f"--http {value!r} is not HOST:PORT.", hint="e.g. --http 127.0.0.1:8765 (or --http 8765).")
    if host not in LOOPBACK:
        raise UsageError(f"nl2sql mcp serves HTTP on the loopback interface only, not on {host!r}: it has no "
                         "authentication, and anyone who reaches it can query your data.",
                         hint="Use --http 127.0.0.1:PORT on the machine of the MCP client (or put an "
                         "authenticating reverse proxy in front of it).")
    return host, int(port_text)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free port); a busy port is a usage error."""
    address = "127.0.0.1" if host == "localhost" else host
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"Cannot listen on {host}:{port}: {exc.strerror}.",
                         hint="Pick another port (--http 127.0.0.1:PORT).") from None
    sock.listen(128)
    return sock


async def serve_http(server: MCPServer, sock: socket.socket, host: str) -> None:
    """Serve the streamable HTTP transport on `sock` until interrupted."""
    import uvicorn

    app = server.streamable_http_app(host=host)  # DNS-rebinding protection for loopback hosts
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"nl2sql MCP server (streamable HTTP) at http://{shown}:{port}/mcp — Ctrl-C stops it", file=sys.stderr,
          flush=True)
    await uvicorn.Server(uvicorn.Config(app, log_level="warning")).serve(sockets=[sock])


def stop(signum: int, frame: Any) -> None:
    """SIGTERM (how clients and service managers stop a server) stops it like Ctrl-C: cleanly."""
    raise KeyboardInterrupt


@mcp_app.command("mcp")
@handle_errors
def mcp_cmd(
    db: options.Db = None,
    schema_file: options.Schema = None,
    schemas_dir: options.SchemasDir = None,
    backend: options.Backend = None,
    model: options.Model = None,
    base_url: options.BaseUrl = None,
    privacy: options.Privacy = None,
    sampling: Annotated[bool | None, typer.Option(
        "--sampling/--no-sampling", help="Let `ask` use the client's model through MCP sampling when the client "
        "offers it (setting mcp_sampling; default: off).")] = None,
    http: Annotated[str | None, typer.Option(
        "--http", metavar="[HOST:]PORT", help="Serve the streamable HTTP transport on loopback "
        "(127.0.0.1, ::1 or localhost) instead of stdio.")] = None,
    result_rows: Annotated[int, typer.Option("--result-rows", min=1, max=10_000,
                                             help="Rows per tool result.")] = RESULT_ROWS,
    as_of: options.AsOf = None,
    timeout: options.Timeout = None,
    max_rows: options.MaxRows = None,
    memory_limit: options.MemoryLimit = None,
) -> None:
    """Serve the guarded pipeline to agents and editors over the Model Context Protocol (stdio or HTTP)."""
    from nl2sql.jobs.workspace import Workspace

    address = parse_http(http) if http is not None else None
    settings = load({"db": db, "schema": schema_file, "schemas_dir": schemas_dir, "backend": backend, "model": model,
                     "base_url": base_url, "privacy": privacy, "mcp_sampling": sampling, "as_of": as_of,
                     "timeout": timeout, "max_rows": max_rows, "memory_limit": memory_limit})
    signal.signal(signal.SIGTERM, stop)
    with Workspace.open(settings, warm=True) as workspace:
        _ = workspace.catalog  # a missing or broken data source is an error now, not on the first call
        workspace.new_backend()  # so is a backend that is not configured
        server = build_server(Agent(workspace, result_rows), settings, result_rows)
        sock = bind(*address) if address is not None else None
        try:
            if sock is not None and address is not None:
                anyio.run(serve_http, server, sock, address[0])
            else:
                if sys.stdin.isatty():  # a person, not a client, started it
                    print("nl2sql mcp speaks MCP on stdin/stdout: start it from an MCP client's configuration "
                          "(or serve HTTP with --http 127.0.0.1:PORT). Ctrl-C stops it.", file=sys.stderr)
                server.run("stdio")
        except KeyboardInterrupt:
            pass  # Ctrl-C (or SIGTERM) is how a server is stopped: the sandbox worker is closed on the way out
        finally:
            if sock is not None:
                sock.close()
