"""Model guardrails: what a model's ``guardrails`` field means.

ml-commons: common/.../model/{Guardrails,LocalRegexGuardrail,ModelGuardrail}.java, checked by
ml-algorithms/.../algorithms/remote/{RemoteConnectorExecutor,ConnectorUtils}.java (input, output).

Two kinds, as in ML Commons:

* ``local_regex`` — the text is refused when it *fully* matches any ``regex`` (Java ``matches()``), or
  when a ``stop_words`` index finds it. mlgate hosts no OpenSearch indices, so a stop-words search can
  never succeed; ML Commons refuses the text whenever that search fails, and so does mlgate.
* ``model`` — another model (the guardrail model) is asked about ``parameters.question``; the input is
  accepted when the Gson JSON of its first tensor's ``dataAsMap.response`` fully matches
  ``response_validation_regex``. A failing guardrail call refuses the text.

Input is checked against the rendered payload (regex) or the request's ``question`` parameter (model);
output against the raw provider body (regex) or that body as a JSON-escaped ``question`` (model).
Everything is compiled once per deploy (:func:`compile_guardrails`), for linear-time matching
(``domain/linear_regex.py``); a pattern mlgate cannot run that way is refused when the model is
registered or updated (:func:`refuse_unsupported_regexes`). A match whose worst case is long runs off the
event loop, through the ``offload`` the predict passes in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mlgate.domain.errors import InvalidRequestError, MlgateError
from mlgate.domain.linear_regex import LinearRegex, RegexError, compile_regex
from mlgate.domain.template import gson_escape, to_gson_json

INPUT_TRIGGERED = "guardrails triggered for user input"
OUTPUT_TRIGGERED = "guardrails triggered for LLM output"
TYPES = ("local_regex", "model")

# Predicts with a guardrail model: (model id, request parameters) → the predict output document.
AskModel = Callable[[str, Mapping[str, str]], Awaitable[Mapping[str, Any]]]
# Runs a pure check in a worker thread (``services/cpu.py``) and returns its answer.
Offload = Callable[[Callable[[], bool]], Awaitable[bool]]
# Matches whose worst case (characters × RE2 instructions) stays under this run on the event loop: a few
# milliseconds at most; a larger one is offloaded, as RE2 lets other threads run while it matches.
INLINE_MATCH_COST = 1_000_000


class Guardrail(Protocol):
    """One direction's check."""

    async def allows(
        self, text: str, parameters: Mapping[str, str | None], ask: AskModel, offload: Offload
    ) -> bool:
        """Whether ``text`` (with the call's parameter map) may pass."""
        ...


@dataclass(frozen=True)
class LocalRegexGuardrail:
    """``local_regex``: forbidden full matches, and stop-words indices (which always refuse here)."""

    patterns: tuple[LinearRegex, ...]
    stop_word_indices: tuple[str, ...] = ()

    async def allows(
        self, text: str, parameters: Mapping[str, str | None], ask: AskModel, offload: Offload
    ) -> bool:
        """No pattern matches the whole text and no stop-words index is configured."""
        if await _any_full_match(self.patterns, text, offload):
            return False
        return not self.stop_word_indices


@dataclass(frozen=True)
class ModelGuardrail:
    """``model``: the guardrail model's verdict on ``parameters.question`` must match ``accept``."""

    model_id: str
    response_filter: str | None
    accept: LinearRegex

    async def allows(
        self, text: str, parameters: Mapping[str, str | None], ask: AskModel, offload: Offload
    ) -> bool:
        """Ask the guardrail model; an absent or empty ``question`` is not checked (as ML Commons)."""
        question = parameters.get("question")
        if not question:
            return True
        request = {"question": question}
        if self.response_filter:
            request["response_filter"] = self.response_filter
        try:
            output = await ask(self.model_id, request)
        except MlgateError:
            return False  # ML Commons refuses the text when the guardrail model cannot answer
        return await _any_full_match((self.accept,), to_gson_json(_first_response(output)), offload)


@dataclass(frozen=True)
class Guardrails:
    """A model's compiled guardrails; either direction may be absent."""

    input: Guardrail | None
    output: Guardrail | None


@dataclass(frozen=True)
class ActiveGuardrails:
    """Guardrails bound to the way this predict reaches guardrail models; what the executor calls."""

    rules: Guardrails
    ask: AskModel
    offload: Offload

    async def check_input(self, payload: str | None, parameters: Mapping[str, str | None]) -> None:
        """Before the send: refuse with ML Commons' 400."""
        guard = self.rules.input
        if guard is not None and not await guard.allows(payload or "", parameters, self.ask, self.offload):
            raise InvalidRequestError(INPUT_TRIGGERED)

    async def check_output(self, body: bytes) -> None:
        """Before post-processing: the raw body, and as a JSON-escaped ``question`` for a model guard."""
        guard = self.rules.output
        if guard is None:
            return
        text = body.decode("utf-8", errors="replace")
        if not await guard.allows(text, {"question": gson_escape(text)}, self.ask, self.offload):
            raise InvalidRequestError(OUTPUT_TRIGGERED)


def compile_guardrails(raw: Any) -> Guardrails | None:
    """The ``guardrails`` field of a model, compiled; None when the model has none.

    ``type`` defaults to ``local_regex``; an unknown type is refused with ML Commons' message, and a
    regex that does not compile fails the deploy.
    """
    if not isinstance(raw, Mapping):
        return None
    kind = raw.get("type") or "local_regex"
    if kind not in TYPES:
        raise InvalidRequestError("The type of guardrails is required, can not be null.")
    return Guardrails(
        input=_compile_one(kind, raw.get("input_guardrail")),
        output=_compile_one(kind, raw.get("output_guardrail")),
    )


def _compile_one(kind: str, raw: Any) -> Guardrail | None:
    if not isinstance(raw, Mapping) or not raw:
        return None
    if kind == "model":
        model_id = raw.get("model_id")
        accept = raw.get("response_validation_regex")
        if not isinstance(model_id, str) or not isinstance(accept, str):
            raise InvalidRequestError("model guardrail needs model_id and response_validation_regex")
        response_filter = raw.get("response_filter")
        return ModelGuardrail(
            model_id, response_filter if isinstance(response_filter, str) else None, _compile(accept)
        )
    regexes = raw.get("regex") or []
    stop_words = raw.get("stop_words") or []
    if not isinstance(regexes, list) or not isinstance(stop_words, list):
        raise InvalidRequestError("regex and stop_words of a local_regex guardrail must be arrays")
    # As ML Commons, an entry without both index_name and source_fields is ignored.
    indices = tuple(
        str(entry["index_name"])
        for entry in stop_words
        if isinstance(entry, Mapping) and entry.get("index_name") and entry.get("source_fields")
    )
    return LocalRegexGuardrail(tuple(_compile(str(r)) for r in regexes), indices)


def refuse_unsupported_regexes(raw: Any) -> None:
    """At register and update: refuse a guardrail regex mlgate cannot match in linear time.

    Raises InvalidRequestError naming the construct (a backreference, lookaround...). A regex that does
    not parse at all is accepted here and fails the deploy, as in ML Commons.
    """
    if not isinstance(raw, Mapping):
        return
    field = "response_validation_regex" if raw.get("type") == "model" else "regex"
    for side in ("input_guardrail", "output_guardrail"):
        guard = raw.get(side)
        patterns = guard.get(field) if isinstance(guard, Mapping) else None
        for pattern in patterns if isinstance(patterns, list) else [patterns]:
            if isinstance(pattern, str | int | float):
                try:
                    compile_regex(str(pattern))
                except RegexError as exc:
                    if exc.unsupported:
                        raise _refusal(str(pattern), exc) from None


async def _any_full_match(patterns: tuple[LinearRegex, ...], text: str, offload: Offload) -> bool:
    def run() -> bool:
        return any(pattern.fullmatch(text) for pattern in patterns)

    if sum(pattern.cost(text) for pattern in patterns) <= INLINE_MATCH_COST:
        return run()
    return await offload(run)


def _compile(pattern: str) -> LinearRegex:
    try:
        return compile_regex(pattern)
    except RegexError as exc:
        raise _refusal(pattern, exc) from None


def _refusal(pattern: str, error: RegexError) -> InvalidRequestError:
    return InvalidRequestError(f"Invalid guardrail regex [{pattern}]: {error.reason}")


def _first_response(output: Mapping[str, Any]) -> Any:
    """``inference_results[0].output[0].dataAsMap.response`` (None when any step is missing)."""
    try:
        return output["inference_results"][0]["output"][0]["dataAsMap"].get("response")
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
