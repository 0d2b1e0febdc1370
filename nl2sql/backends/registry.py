"""Which backend the settings ask for: `auto` means openai when a key or base URL is configured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nl2sql.core.errors import ConfigError

if TYPE_CHECKING:
    from nl2sql.backends.base import Backend
    from nl2sql.core.config import Settings

BACKENDS = ("auto", "openai", "offline")


def configured_for_openai(settings: Settings) -> bool:
    """True when a key or a base URL is configured (what `--backend auto` looks at)."""
    return bool(settings.api_key or settings.base_url)


def make_backend(settings: Settings, problems: list[str] | None = None) -> Backend:
    """The backend the settings ask for; `auto` = openai when configured.

    `problems` collects what failed on the side (a reply that could not be cached)."""
    choice = settings.backend
    if choice == "auto":
        choice = "openai" if configured_for_openai(settings) else "offline"
    if choice == "openai":
        if not configured_for_openai(settings):
            raise ConfigError("The openai backend needs a key or a base URL.",
                              hint="Set OPENAI_API_KEY (or OPENAI_BASE_URL for a local OpenAI-compatible server, "
                              "e.g. llama.cpp, vLLM, Ollama), or use --backend offline.")
        from nl2sql.backends.openai import OpenAIBackend
        from nl2sql.core.cache import ResponseCache

        cache = ResponseCache(settings.home_dir / "cache", enabled=settings.cache, problems=problems)
        return OpenAIBackend(settings, cache=cache)
    if choice == "offline":
        from nl2sql.backends.offline import OfflineBackend

        return OfflineBackend()
    raise ConfigError(f"Backend {choice!r} is not available.", hint="Use --backend openai or offline.")
