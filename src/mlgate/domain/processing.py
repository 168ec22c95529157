"""Pre/post-process functions keyed by their ML Commons names: the executor's one entry point.

A ``pre_process_function`` / ``post_process_function`` text that is not a built-in name is a Painless
script (ML Commons has no other kind). The built-ins live in :mod:`mlgate.domain.preprocess` and
:mod:`mlgate.domain.postprocess`; tensors in :mod:`mlgate.domain.tensor`; JSONPath in
:mod:`mlgate.domain.jsonpath`.
"""

from __future__ import annotations

from typing import Any

from mlgate.domain.postprocess import POST_PROCESS_FUNCTIONS, apply_response_filter, run_post_process
from mlgate.domain.predict_input import PredictInput
from mlgate.domain.preprocess import PRE_PROCESS_FUNCTIONS, chunk_text_docs
from mlgate.domain.tensor import build_response_tensors, data_type_for_filter

__all__ = [
    "apply_response_filter",
    "build_response_tensors",
    "chunk_text_docs",
    "data_type_for_filter",
    "is_builtin_post_process",
    "is_builtin_pre_process",
    "run_builtin_post_process",
    "run_builtin_pre_process",
]


def is_builtin_pre_process(name: str) -> bool:
    """Whether ``name`` is a built-in pre-process function (anything else is a script)."""
    return name in PRE_PROCESS_FUNCTIONS


def is_builtin_post_process(name: str) -> bool:
    """Whether ``name`` is a built-in post-process function (anything else is a script)."""
    return name in POST_PROCESS_FUNCTIONS


def run_builtin_pre_process(name: str, inp: PredictInput) -> dict[str, Any]:
    """Output parameters of built-in ``name`` for ``inp`` (see preprocess), before stringifying and escaping.

    Values: ``list``/``dict`` for JSON arrays/objects, ``str`` for text, ``int`` for counts, ``None``
    for an absent document. Remote-parameters input passes through: the result is empty (the request
    parameters are already in the map). Raises :class:`InvalidRequestError` with ML Commons' messages.
    """
    if inp.kind == "remote":
        return {}
    return PRE_PROCESS_FUNCTIONS[name](inp)


def run_builtin_post_process(
    name: str, body: Any, response_filter: str | None, *, action: str = "PREDICT"
) -> list[dict[str, Any]]:
    """ModelTensor dicts from built-in ``name`` applied to a parsed response body (:mod:`.postprocess`).

    ``response_filter`` (when non-blank) replaces the function's default JSONPath and decides the
    tensor ``data_type``. Validation failures are :class:`InvalidRequestError` with ML Commons'
    messages; a path missing from the body is ``ExecutionError("Fail to execute <action> in aws
    connector")`` with the JSONPath error as ``caused_by``.
    """
    return run_post_process(name, body, response_filter, action=action)
