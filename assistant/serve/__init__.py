"""Serve: an Assistant in, people and programs served.

The Gradio chat UI (ui, with what it shows in present), the HTTP API on the same port (service: /v1 and OpenAI chat
completions) and uploads into the library. A client of the facade (`assistant.api.Assistant`).
"""

from .service import create_api
from .ui import build_app, serve

__all__ = ["build_app", "create_api", "serve"]
