"""Serve: an Assistant in, people and programs served.

The Gradio chat UI (ui, with what it shows in present), the HTTP API on the same port (service: /v1 and OpenAI chat
completions, documents by id from files), uploads into the library, and who may sign in (signin). A client of the
facade (`assistant.api.Assistant`). Names are imported on first use: the sign-in check must not wait for Gradio.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {"build_app": "ui", "server_app": "ui", "serve": "ui", "create_api": "service", "check_sign_in": "signin"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'assistant.serve' has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
