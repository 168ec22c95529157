"""Comparing mlgate's predict output with a published sample response.

Always ignored: ids and timestamps (they differ on every call) and float noise (relative 1e-6). Two
depths of comparison:

* *values* — the mock answered with the provider body derived from the sample: everything must match.
* *shape* — the mock answered with its own content: tensor count, names, data types, shape ranks,
  ``data`` present, and the ``dataAsMap`` keys the sample shows (recursively, where both are objects).

Version differences docs/compatibility.md lists ("Version followed": HEAD output, older sample shapes) are
normalised only where they occur and each one is reported by name, never silently.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Keys whose values are fresh on every call.
VOLATILE_KEYS = frozenset(
    {"id", "created", "created_at", "createdAt", "timestamp", "system_fingerprint", "request_id", "requestId"}
)
RELATIVE_TOLERANCE = 1e-6

PRE_3_3_WRAPPER = 'object filter result wrapped as {"response": …} (before 3.3)'
PRE_3_5_DOUBLES = "numbers in dataAsMap as doubles (before 3.5)"
ELIDED_VECTOR = "sample vector elided in the docs (shape compared by rank)"
BATCH_ANSWER = (
    'batch answer is {"task_id", "status": "CREATED", "remote_job"} (HEAD), the docs show the '
    "provider's job as a predict output"
)
BARE_CONTENT = "sample lists the provider's content in place of ModelTensors (docs shorthand)"
_TENSOR_KEYS = frozenset({"name", "data_type", "shape", "data", "byte_buffer", "result", "dataAsMap"})


@dataclass
class Comparison:
    """Differences found (empty = match) and the named normalisations applied."""

    problems: list[str] = field(default_factory=list)
    normalised: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        """No differences."""
        return not self.problems


def _numbers_equal(expected: Any, actual: Any, cmp: Comparison) -> bool:
    if math.isclose(float(expected), float(actual), rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12):
        if isinstance(expected, float) and isinstance(actual, int) and expected.is_integer():
            cmp.normalised.add(PRE_3_5_DOUBLES)
        return True
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compare_values(expected: Any, actual: Any, where: str, cmp: Comparison) -> None:
    """Deep equality with ids/timestamps ignored and float tolerance."""
    if _is_number(expected) and _is_number(actual):
        if not _numbers_equal(expected, actual, cmp):
            cmp.problems.append(f"{where}: expected {expected!r}, got {actual!r}")
        return
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        missing = [k for k in expected if k not in actual and k not in VOLATILE_KEYS]
        extra = [k for k in actual if k not in expected and k not in VOLATILE_KEYS]
        if missing or extra:
            cmp.problems.append(f"{where}: keys missing {missing}, unexpected {extra}")
        for key in expected:
            if key in actual and key not in VOLATILE_KEYS:
                compare_values(expected[key], actual[key], f"{where}.{key}", cmp)
        return
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            cmp.problems.append(f"{where}: expected {len(expected)} items, got {len(actual)}")
            return
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            compare_values(e, a, f"{where}[{i}]", cmp)
        return
    if expected != actual:
        cmp.problems.append(f"{where}: expected {_short(expected)}, got {_short(actual)}")


def _compare_keys(expected: Any, actual: Any, where: str, cmp: Comparison) -> None:
    """Shape depth: the sample's keys are present, recursively where both sides are objects."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            cmp.problems.append(f"{where}: expected an object, got {type(actual).__name__}")
            return
        missing = [k for k in expected if k not in actual and k not in VOLATILE_KEYS]
        if missing:
            cmp.problems.append(f"{where}: keys missing {missing}")
        for key in expected:
            if key in actual:
                _compare_keys(expected[key], actual[key], f"{where}.{key}", cmp)
    elif isinstance(expected, list) and expected and isinstance(actual, list) and actual:
        _compare_keys(expected[0], actual[0], f"{where}[0]", cmp)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def is_bare_content(output: Mapping[str, Any]) -> bool:
    """A sample "tensor" with none of ModelTensor's fields: the docs show what the provider answered."""
    return not _TENSOR_KEYS.intersection(output)


def _as_tensors(outputs: list[Any], cmp: Comparison) -> list[Any]:
    """Bare provider content as the one ``response`` tensor ML Commons builds from it (parseResponse)."""
    if not outputs or not all(isinstance(o, Mapping) and is_bare_content(o) for o in outputs):
        return outputs
    cmp.normalised.add(BARE_CONTENT)
    content = outputs[0] if len(outputs) == 1 else {"response": list(outputs)}
    return [{"name": "response", "dataAsMap": content}]


def _is_elided(tensor: Mapping[str, Any]) -> bool:
    shape, data = tensor.get("shape"), tensor.get("data")
    if not isinstance(shape, list) or not isinstance(data, list) or not all(_is_number(n) for n in shape):
        return False
    return math.prod(shape) != len(data)


def _compare_tensor(
    expected: Mapping[str, Any], actual: Mapping[str, Any], where: str, exact: bool, cmp: Comparison
) -> None:
    for key in ("name", "data_type"):
        if expected.get(key) != actual.get(key):
            cmp.problems.append(f"{where}.{key}: expected {expected.get(key)!r}, got {actual.get(key)!r}")
    for key in ("shape", "data", "dataAsMap", "result"):
        if (key in expected) != (key in actual):
            cmp.problems.append(f"{where}: {key} {'missing' if key in expected else 'unexpected'}")
    elided = _is_elided(expected)
    if "shape" in expected and "shape" in actual:
        if elided or not exact:
            if len(expected["shape"]) != len(actual["shape"]):
                cmp.problems.append(
                    f"{where}.shape: expected rank {len(expected['shape'])}, got {actual['shape']}"
                )
            if elided:
                cmp.normalised.add(ELIDED_VECTOR)
        else:
            compare_values(expected["shape"], actual["shape"], f"{where}.shape", cmp)
    if exact and "data" in expected and "data" in actual:
        compare_values(expected["data"], actual["data"], f"{where}.data", cmp)
    if "dataAsMap" in expected and "dataAsMap" in actual:
        wanted = expected["dataAsMap"]
        got = actual["dataAsMap"]
        if (
            isinstance(wanted, Mapping)
            and set(wanted) == {"response"}
            and isinstance(wanted["response"], Mapping)
            and set(got) != {"response"}
        ):
            wanted = wanted["response"]
            cmp.normalised.add(PRE_3_3_WRAPPER)
        if exact:
            compare_values(wanted, got, f"{where}.dataAsMap", cmp)
        else:
            _compare_keys(wanted, got, f"{where}.dataAsMap", cmp)
    if exact and "result" in expected and "result" in actual:
        compare_values(expected["result"], actual["result"], f"{where}.result", cmp)


def compare_predict(expected: Any, status: int, actual: Any, *, exact: bool) -> Comparison:
    """Compare one predict answer (status and body) with the sample response."""
    cmp = Comparison()
    if isinstance(expected, Mapping) and "error" in expected:
        if status != expected.get("status"):
            cmp.problems.append(f"status: expected {expected.get('status')}, got {status}")
        error = actual.get("error") if isinstance(actual, Mapping) else None
        if not isinstance(error, Mapping):
            cmp.problems.append(f"expected an error, got {_short(actual)}")
            return cmp
        for key in ("type", "reason"):
            if expected["error"].get(key) != error.get(key):
                cmp.problems.append(
                    f"error.{key}: expected {expected['error'].get(key)!r}, got {error.get(key)!r}"
                )
        return cmp
    if status != 200:
        error = actual.get("error") if isinstance(actual, Mapping) else None
        detail = (
            f"{error.get('type')}: {error.get('reason')}" if isinstance(error, Mapping) else _short(actual)
        )
        cmp.problems.append(f"status {status}: {detail}")
        return cmp
    if not isinstance(actual, Mapping) or not isinstance(actual.get("inference_results"), list):
        cmp.problems.append(f"no inference_results in {_short(actual)}")
        return cmp
    if expected is None:
        return cmp
    wanted, got = expected["inference_results"], actual["inference_results"]
    if len(wanted) != len(got):
        cmp.problems.append(f"inference_results: expected {len(wanted)}, got {len(got)}")
        return cmp
    for i, (e, a) in enumerate(zip(wanted, got, strict=True)):
        where = f"inference_results[{i}]"
        if "status_code" in e and e.get("status_code") != a.get("status_code"):
            cmp.problems.append(
                f"{where}.status_code: expected {e.get('status_code')}, got {a.get('status_code')}"
            )
        outputs_e, outputs_a = _as_tensors(e.get("output") or [], cmp), a.get("output") or []
        if len(outputs_e) != len(outputs_a):
            cmp.problems.append(f"{where}.output: expected {len(outputs_e)} tensors, got {len(outputs_a)}")
            continue
        for j, (te, ta) in enumerate(zip(outputs_e, outputs_a, strict=True)):
            _compare_tensor(te, ta, f"{where}.output[{j}]", exact, cmp)
    return cmp


def compare_batch(expected: Any, status: int, actual: Any, *, exact: bool) -> Comparison:
    """Compare a ``_batch_predict`` answer with a sample showing the job as a predict output.

    HEAD answers ``{"task_id", "status": "CREATED", "remote_job"}`` where ``remote_job`` is the first
    tensor's ``dataAsMap`` plus ``dlq``: that map is compared with the sample's ``dataAsMap``.
    """
    if (isinstance(expected, Mapping) and "error" in expected) or status != 200 or expected is None:
        return compare_predict(expected, status, actual, exact=exact)
    cmp = Comparison()
    if not isinstance(actual, Mapping) or set(actual) != {"task_id", "status", "remote_job"}:
        cmp.problems.append(f"not a batch answer: {_short(actual)}")
        return cmp
    if actual["status"] != "CREATED" or not isinstance(actual["task_id"], str):
        cmp.problems.append(f"status/task_id: {actual['status']!r}, {actual['task_id']!r}")
    cmp.normalised.add(BATCH_ANSWER)
    wanted = expected["inference_results"][0]["output"][0]["dataAsMap"]
    job = {k: v for k, v in actual["remote_job"].items() if k != "dlq"}
    if exact:
        compare_values(wanted, job, "remote_job", cmp)
    else:
        _compare_keys(wanted, job, "remote_job", cmp)
    return cmp
