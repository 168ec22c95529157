"""Aleph Alpha answers: ``POST /semantic_embed``."""

from __future__ import annotations

from typing import Any

from mlgate.mockprovider import fake_model
from mlgate.mockprovider.shape import ShapeRequest, require_str


def semantic_embed(request: ShapeRequest) -> dict[str, Any]:
    """One ``embedding`` for ``prompt``; ``compress_to_size`` sets its size like the real API."""
    body = request.require_object()
    prompt = require_str(body.get("prompt"), "prompt")
    return {
        "model_version": "2022-04",
        "embedding": fake_model.embed(prompt, request.dim(body.get("compress_to_size"))),
    }
