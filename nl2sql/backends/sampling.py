"""The sampling backend: the openai backend's prompts, answered by a model that the host lends us.

An MCP client that supports sampling runs its own model on our behalf (`nl2sql mcp --sampling`):
no API key, the user's model. The server hands this backend a `complete` function that sends one
request through the client. Prompts, reply parsing and narration clean-up are the openai
backend's own (one place to improve them); only the transport differs. No reply is cached: the
model behind a client can change from one call to the next.

`complete(messages, max_tokens)` returns (reply text, the model's name or None). A host that
cannot fetch the reply during the call raises `ReplyNeeded`: the caller fetches it and asks again
(MCP's input-required flow), and `complete` then returns the recorded reply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nl2sql.backends.base import Usage
from nl2sql.backends.openai import MAX_REPLY_CHARS, OpenAIBackend
from nl2sql.core.cache import ResponseCache

if TYPE_CHECKING:
    from nl2sql.core.config import Settings

Complete = Callable[[list[dict[str, str]], int], tuple[str, str | None]]


class ReplyNeeded(Exception):
    """The host must fetch this reply before the ask can go on; the ask is then run again.

    `key` names the request (the same messages give the same key); `request` is the host's own
    request object, opaque here.
    """

    def __init__(self, key: str, request: Any) -> None:
        super().__init__(f"a model reply is needed first ({key[:12]})")
        self.key = key
        self.request = request


class SamplingBackend(OpenAIBackend):
    """write_sql / narrate with the openai backend's prompts, sent through `complete`."""

    name = "sampling"
    stateful = False
    can_moderate = False

    def __init__(self, settings: Settings, complete: Complete) -> None:
        super().__init__(settings, cache=ResponseCache(settings.home_dir / "cache", enabled=False))
        self.model = None  # the client's model, named by its first reply
        self._complete = complete

    def chat(self, messages: list[dict[str, str]], json_mode: bool) -> tuple[str, Usage]:
        """One reply from the client's model (it reports no tokens and costs us nothing)."""
        text, model = self._complete(messages, self.settings.max_tokens)
        if model:
            self.model = model[:100]
        return text[: MAX_REPLY_CHARS + 1], Usage(calls=1)

    def moderate(self, text: str) -> bool:
        """Never called (`can_moderate` is False): the client moderates its own model."""
        return False
