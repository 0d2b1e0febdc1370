"""A scripted OpenAI-compatible HTTP server on 127.0.0.1, for driving the real openai client.

Each chat request takes the next scripted step: a reply text, an HTTP status, a delay, or raw
bytes. When the script runs out, `default` (a function of the request body) answers. Every
request is recorded (headers and body) so tests can check what the model was sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def reply(content: str, prompt_tokens: int = 100, completion_tokens: int = 20) -> dict[str, Any]:
    """A Chat Completions response body with `content`."""
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": "test-model",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def sql_reply(sql: str, assumptions: list[str] | None = None) -> str:
    """The JSON text a well-behaved model returns for SQL."""
    return json.dumps({"sql": sql, "explanation": "test", "assumptions": assumptions or []})


class FakeOpenAI:
    """Start with `with FakeOpenAI() as server:`; use `server.base_url`."""

    def __init__(self, default: Callable[[dict[str, Any]], str] | None = None) -> None:
        self.script: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.default = default or (lambda body: "The result shows the numbers above.")
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # /v1/models
                self._send(200, {"object": "list", "data": [{"id": "test-model", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                body = json.loads(raw or b"{}")
                with server.lock:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    server.requests.append({"path": self.path, "headers": headers, "body": body,
                                            "raw": raw.decode("utf-8", "replace")})
                    step = server.script.pop(0) if server.script and "moderations" not in self.path else None
                if "moderations" in self.path:
                    flagged = any(w in json.dumps(body) for w in ("FLAGME",))
                    self._send(200, {"id": "modr", "model": "omni-moderation-latest",
                                     "results": [{"flagged": flagged, "categories": {}, "category_scores": {}}]})
                    return
                if step is None:
                    self._send(200, reply(server.default(body)))
                    return
                if "sleep" in step:
                    time.sleep(step["sleep"])
                if "status" in step:
                    self._send(step["status"], {"error": {"message": step.get("message", "scripted failure"),
                                                          "type": "test", "code": None}},
                               {"retry-after-ms": "10"})
                elif "raw" in step:
                    data = step["raw"]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    self._send(200, reply(step["content"], step.get("prompt_tokens", 100),
                                          step.get("completion_tokens", 20)))

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The /v1 URL to give the openai client."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def add(self, *steps: dict[str, Any]) -> None:
        """Append scripted steps: {"content": ...}, {"status": 429}, {"sleep": 2}, {"raw": b"..."}."""
        self.script.extend(steps)

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """The recorded chat-completion requests."""
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
