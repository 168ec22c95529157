"""The predict hot path's pattern checks: guardrails (input and output) and the egress endpoint match.

Run: PYTHONPATH=src python bench/bench_regex.py
Prints microseconds per call for what one predict runs: the trusted-endpoint match of its URL (the
default list, and a custom loopback entry), a ``local_regex`` input guardrail on a chat payload and an
output guardrail on a provider body, at a typical size and at 100 KB.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mlgate.domain.egress import DEFAULT_TRUSTED_ENDPOINTS, EgressPolicy, preflight
from mlgate.domain.guardrails import ActiveGuardrails, compile_guardrails

GUARDRAILS = {
    "type": "local_regex",
    "input_guardrail": {"regex": [".*forbidden.*", "(?s).*\\b(password|ssn)\\b.*", "^\\s*$"]},
    "output_guardrail": {"regex": ['(?s).*"error".*', ".*[Ss]uicide.*"]},
}
CHAT = (
    '{"model": "gpt-4o", "messages": [{"role": "system", "content": "You are a helpful assistant."}, '
    '{"role": "user", "content": "Summarise the attached quarterly report in three bullet points."}]}'
)
BODY = (
    b'{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant",'
    b'"content":"- Revenue grew 12%\\n- Costs fell\\n- Outlook raised"},"finish_reason":"stop"}]}'
)


async def _no_model(model_id: str, parameters: Mapping[str, str]) -> Mapping[str, Any]:
    raise AssertionError("no guardrail model in this benchmark")


async def _inline(work: Callable[[], bool]) -> bool:
    # The matching cost itself: the server hands a long match to a worker thread (one hop more).
    return work()


def _per_call(fn: Callable[[], object], seconds: float = 0.5) -> float:
    """Microseconds per call: best of three rounds of as many calls as fit in ``seconds``."""
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        if time.perf_counter() - start > seconds / 10:
            break
        calls *= 2
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def _sync(coro_fn: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    # The checks are coroutines that never suspend here: drive them without an event loop's overhead.
    def run() -> None:
        coro = coro_fn()
        try:
            coro.send(None)  # type: ignore[attr-defined]
        except StopIteration:
            return
        raise AssertionError("the check suspended")

    return run


def main() -> None:
    rules = compile_guardrails(GUARDRAILS)
    assert rules is not None
    guards = ActiveGuardrails(rules, _no_model, _inline)
    big_chat = CHAT.replace("three bullet points.", "three bullet points. " + "lorem ipsum " * 8_500)
    big_body = BODY.replace(b"Outlook raised", b"Outlook raised " + b"lorem ipsum " * 8_500)
    defaults = EgressPolicy(trusted_endpoints=DEFAULT_TRUSTED_ENDPOINTS)
    custom = EgressPolicy(trusted_endpoints=(*DEFAULT_TRUSTED_ENDPOINTS, r"^http://127\.0\.0\.1:9300/.*$"))
    bedrock = "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-v2/invoke"
    rows = [
        (
            "egress: default list, OpenAI URL (3rd)",
            lambda: preflight("https://api.openai.com/v1/chat", defaults),
        ),
        ("egress: default list, Bedrock URL (7th)", lambda: preflight(bedrock, defaults)),
        ("egress: custom loopback entry (13th)", lambda: preflight("http://127.0.0.1:9300/v1/chat", custom)),
        ("guardrail input, 3 regexes, 0.2 KB", _sync(lambda: guards.check_input(CHAT, {}))),
        ("guardrail input, 3 regexes, 100 KB", _sync(lambda: guards.check_input(big_chat, {}))),
        ("guardrail output, 2 regexes, 0.2 KB", _sync(lambda: guards.check_output(BODY))),
        ("guardrail output, 2 regexes, 100 KB", _sync(lambda: guards.check_output(big_body))),
    ]
    for name, fn in rows:
        print(f"{name:42s} {_per_call(fn):9.2f} µs/call")


if __name__ == "__main__":
    main()
