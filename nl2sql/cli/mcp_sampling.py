"""MCP sampling for `nl2sql mcp --sampling`: the pipeline's model requests go to the client's model.

`SamplingBridge.complete` is the `complete` function of `backends.sampling.SamplingBackend`. It
runs in the tool's worker thread and speaks whichever flow the connection negotiated:

- protocol revisions up to 2025-11-25 (Claude Desktop and most clients today): a
  `sampling/createMessage` request sent mid-call, awaited on the event loop;
- 2026-07-28 and later: a tool call cannot wait on the client, so it returns an
  `InputRequiredResult` carrying the request, and the client calls again with the reply. The
  ask is then run again from the start; replies already received ride along in the (sealed)
  request state and are answered from there, so each request reaches the model once.

A client's reply is untrusted text like any model's: it goes through the same parser, guard,
sandbox and grounding checks.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

import anyio.from_thread
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp.types import (
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResult,
    InputRequiredResult,
    SamplingMessage,
    TextContent,
)
from mcp.types.version import is_version_at_least

from nl2sql.backends.sampling import ReplyNeeded
from nl2sql.core.errors import ProviderError

INPUT_REQUIRED_VERSION = "2026-07-28"  # the first revision where a tool asks for input by returning
HINT = ("Allow sampling for this server in the client, or run `nl2sql mcp` without --sampling "
        "(the offline engine, or the model configured for nl2sql, answers instead).")


def reply_text(result: CreateMessageResult) -> str:
    """The text of a sampled reply; a reply without text is the client's failure."""
    blocks = result.content if isinstance(result.content, list) else [result.content]
    text = "".join(b.text for b in blocks if isinstance(b, TextContent))
    if not text.strip():
        raise ProviderError("The client's model replied without text.", hint=HINT)
    return text


def can_sample(ctx: Context) -> bool:
    """True when the client declared the sampling capability."""
    caps = ctx.client_capabilities
    return caps is not None and caps.sampling is not None


class SamplingBridge:
    """Sends chat messages to the client's model during one tool call."""

    def __init__(self, ctx: Context, temperature: float) -> None:
        self.ctx = ctx
        self.temperature = temperature
        self.input_required = is_version_at_least(ctx.protocol_version or "", INPUT_REQUIRED_VERSION)
        self.replies: dict[str, list[str | None]] = self._received() if self.input_required else {}

    def _received(self) -> dict[str, list[str | None]]:
        """Replies of earlier rounds (request state) and of the last one (input responses)."""
        replies: dict[str, list[str | None]] = {}
        try:
            state = json.loads(self.ctx.request_state or "{}")
        except ValueError:
            state = {}
        if isinstance(state, dict):
            replies.update({k: v for k, v in state.items() if isinstance(v, list) and len(v) == 2})
        for key, response in (self.ctx.input_responses or {}).items():
            if isinstance(response, CreateMessageResult):
                replies[key] = [reply_text(response), response.model]
        return replies

    def params(self, messages: list[dict[str, str]], max_tokens: int) -> CreateMessageRequestParams:
        """The sampling request for chat `messages`: system text apart, the turns as messages."""
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        turns = [SamplingMessage(role="assistant" if m["role"] == "assistant" else "user",
                                 content=TextContent(type="text", text=m["content"]))
                 for m in messages if m["role"] != "system"]
        return CreateMessageRequestParams(messages=turns, system_prompt=system or None, max_tokens=max_tokens,
                                          temperature=self.temperature)

    def complete(self, messages: list[dict[str, str]], max_tokens: int) -> tuple[str, str | None]:
        """(reply text, model name) for the messages, from the client's model."""
        params = self.params(messages, max_tokens)
        if self.input_required:
            key = hashlib.sha256(params.model_dump_json(by_alias=True).encode()).hexdigest()[:32]
            if key in self.replies:
                text, model = self.replies[key]
                return str(text), model
            raise ReplyNeeded(key, CreateMessageRequest(params=params))
        call: Any = functools.partial(
            self.ctx.session.create_message, params.messages, max_tokens=max_tokens,
            system_prompt=params.system_prompt, temperature=params.temperature)
        try:
            result = anyio.from_thread.run(call)
        except MCPError as exc:
            raise ProviderError(f"The client could not sample a reply from its model: {str(exc)[:300]}",
                                hint=HINT) from None
        return reply_text(result), result.model

    def ask_client(self, need: ReplyNeeded) -> InputRequiredResult:
        """The tool result that asks the client for `need`'s reply (2026-07-28 and later)."""
        return InputRequiredResult(input_requests={need.key: need.request}, request_state=json.dumps(self.replies),
                                   result_type="input_required")
