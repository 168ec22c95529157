"""What every answer of mlgate must look like, whatever the request (used by the fuzz layer and tests)."""

from __future__ import annotations

from typing import Any

import orjson

# The Security REST API, on its current and its legacy prefix.
SECURITY_API = ("/_plugins/_security/api/", "/_opendistro/_security/api/")
# OpenSearch's RestController answers these with a bare string `error` (unknown path, wrong method,
# Content-Type not accepted).
SIMPLE_ERROR_STATUSES = frozenset({400, 405, 406})


def error_body_problem(method: str, path: str, status: int, content: bytes) -> str | None:
    """Why an error answer is not one OpenSearch would give, or None when it is.

    Accepted: the envelope ``{"error": {"root_cause", "type", "reason"}, "status"}``; the router's
    ``{"error": "<message>", "status"}``; on the Security REST API, its own
    ``{"status": "NOT_FOUND" | "error" | …, "message" | "reason": …}``. A HEAD answer has no body.
    """
    if method == "HEAD":
        return None if content == b"" else "a HEAD answer with a body"
    try:
        body: Any = orjson.loads(content)
    except orjson.JSONDecodeError:
        return f"not JSON: {content[:200]!r}"
    if not isinstance(body, dict):
        return "not a JSON object"
    if path.startswith(SECURITY_API) and isinstance(body.get("status"), str):
        text = body.get("message", body.get("reason"))
        return None if isinstance(text, str) else "a Security API error without message or reason"
    if body.get("status") != status:
        return f"`status` {body.get('status')!r} is not the HTTP status {status}"
    error = body.get("error")
    if isinstance(error, str):
        return None if status in SIMPLE_ERROR_STATUSES else f"a bare string error with status {status}"
    if not isinstance(error, dict):
        return "no `error` object"
    if not isinstance(error.get("type"), str) or not isinstance(error.get("reason"), str):
        return "`error` without string `type` and `reason`"
    root_cause = error.get("root_cause")
    if not isinstance(root_cause, list) or not root_cause:
        return "`error` without `root_cause`"
    return None
