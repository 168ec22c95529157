"""What every provider shape gets and may raise: the decoded request and the provider's families.

A *shape* is a pure function from a :class:`ShapeRequest` to the JSON value a real provider would
answer; I/O, faults and signatures are handled around it by the app.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mlgate.mockprovider.fake_model import MAX_DIM


class Family(enum.Enum):
    """Which provider a route imitates; decides the style of error bodies and whether SigV4 applies."""

    OPENAI = "openai"
    COHERE = "cohere"
    GOOGLE = "google"
    AWS = "aws"  # REST-JSON services: Bedrock runtime, SageMaker runtime
    AWS_JSON = "aws_json"  # AWS JSON 1.1 services selected by X-Amz-Target: Comprehend, Textract
    GENERIC = "generic"

    @property
    def is_aws(self) -> bool:
        """True for routes a real client must sign with SigV4."""
        return self in (Family.AWS, Family.AWS_JSON)


class InvalidInput(Exception):
    """The request body is not what the provider accepts; rendered as the provider's 4xx error."""

    def __init__(self, message: str, *, status: int = 400, error_type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_type = error_type


@dataclass(frozen=True, slots=True)
class ShapeRequest:
    """A decoded request as a shape sees it."""

    body: Any
    path_params: Mapping[str, str]
    headers: Mapping[str, str]
    dim_override: int | None
    default_dim: int

    def dim(self, requested: object = None) -> int:
        """The embedding size: ``?dim=`` wins, then a dimension field of the body, then the default."""
        if self.dim_override is not None:
            return self.dim_override
        if requested is None:
            return self.default_dim
        if isinstance(requested, bool) or not isinstance(requested, int) or not 1 <= requested <= MAX_DIM:
            raise InvalidInput(f"dimensions must be an integer between 1 and {MAX_DIM}, got {requested!r}")
        return requested

    def field(self, name: str) -> Any:
        """A top-level field of an object body, or ``None``."""
        return self.body.get(name) if isinstance(self.body, dict) else None

    def require_object(self) -> dict[str, Any]:
        """The body as a JSON object, else the provider's 400."""
        if not isinstance(self.body, dict):
            raise InvalidInput("The request body must be a JSON object.")
        return self.body


Shape = Callable[[ShapeRequest], Any]


def require_str(value: object, name: str) -> str:
    """``value`` if it is a string, else the provider's 400 naming the field."""
    if not isinstance(value, str):
        raise InvalidInput(f"'{name}' must be a string.")
    return value


def require_str_list(value: object, name: str) -> list[str]:
    """``value`` if it is a non-empty list of strings, else the provider's 400 naming the field."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"'{name}' must be a non-empty array of strings.")
    return value


def text_of(content: object) -> str:
    """The plain text of a chat message ``content``: a string, or a list of text parts of any provider."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        ]
        return " ".join(texts)
    return ""


def last_user_text(messages: object) -> str:
    """The text of the last ``user`` message of a chat ``messages`` list (``""`` if there is none)."""
    if not isinstance(messages, list) or not messages:
        raise InvalidInput("'messages' must be a non-empty array.")
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role", "user") == "user":
            return text_of(message.get("content"))
    return ""
