"""``make conformance``: replay every published blueprint against an in-process mlgate node.

For each blueprint of ``../shared/blueprints/`` (relative to the repository root): create the connector
(pointed at the mock provider, placeholder credentials replaced), register and deploy a model, run each
sample predict request with its published request line, and compare the answer with the sample
response (see :mod:`tests.conformance.normalise`). Defective blueprints (MANIFEST.md) pass when mlgate
refuses them with ML Commons' error. One line per blueprint, then ``N passed, M failed, K skipped``;
the exit status is non-zero when anything failed.

    python -m tests.conformance.runner [--blueprints DIR] [NAME ...]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import enum
import importlib
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mlgate.bootstrap import build_node
from mlgate.config import Config
from mlgate.mockprovider import MockProvider
from tests.conformance.corpus import HEAD_PRESET_REFUSALS, Blueprint, Defect, Sample, load_corpus
from tests.conformance.normalise import compare_batch, compare_predict
from tests.conformance.prepare import lacks_region, prepare_connector, register_body
from tests.conformance.provider import provider_bodies, start_provider

DEFAULT_FOLDER = Path(__file__).resolve().parents[2].parent / "shared" / "blueprints"
ML = "/_plugins/_ml"
MASTER_KEY = base64.b64encode(b"c" * 32).decode()
# The mock listens on 127.0.0.1 only; an empty path is what Comprehend/Textract URLs have.
LOOPBACK_TRUSTED = (r"^http://127\.0\.0\.1:[0-9]+/.*$", r"^http://127\.0\.0\.1:[0-9]+$")
MISSING_CREDENTIAL = "Missing credential"
MISSING_REGION = "Missing region"
UNSAFE_TEXT = "Validation Failed: 1: Model connector {field} can only contain"
UNTRUSTED_URL = "Connector URL is not matching the trusted connector endpoint regex"


class Verdict(enum.Enum):
    """How one blueprint fared."""

    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass
class Outcome:
    """The result line of one blueprint."""

    name: str
    verdict: Verdict
    reason: str = ""
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """``PASS name (notes)``, ``FAIL name: reason`` or ``SKIP name: reason``."""
        text = f"{self.verdict.value} {self.name}"
        if self.reason:
            text += f": {self.reason}"
        if self.notes:
            text += f" ({'; '.join(dict.fromkeys(self.notes))})"
        return text


class Failed(Exception):
    """A step of the replay went wrong; the message is the FAIL reason."""


class Refused(Exception):
    """An expected refusal happened: the blueprint passes here."""


def painless_available() -> bool:
    """Whether ``mlgate.painless`` imports and runs a script (another issue delivers it)."""
    try:
        painless = importlib.import_module("mlgate.painless")
        return bool(painless.compile_script("return params.x + 1;").execute({"x": 1}) == 2)
    except Exception:  # any failure means "not usable yet": its blueprints are reported skipped
        return False


def _error_reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        return str(error.get("reason"))
    return response.text[:200]


def _predict_path(sample: Sample, model_id: str) -> str:
    segments = sample.path.strip("/").split("/")
    if segments[-1] in ("_predict", "_batch_predict"):
        segments[-2] = model_id
    else:
        segments[-1] = model_id  # /_plugins/_ml/_predict/{algorithm}/{model_id}
    path = "/" + "/".join(segments)
    return f"{path}?{sample.query}" if sample.query else path


def _action(connector: Mapping[str, Any], action_type: str) -> Mapping[str, Any]:
    for action in connector.get("actions") or []:
        if str(action.get("action_type", "")).upper() == action_type:
            return dict(action)
    return {}


def _response_filter(connector: Mapping[str, Any], request: Any) -> str | None:
    params: dict[str, Any] = dict(connector.get("parameters") or {})
    if isinstance(request, Mapping) and isinstance(request.get("parameters"), Mapping):
        params.update(request["parameters"])
    value = params.get("response_filter")
    return value if isinstance(value, str) and value.strip() else None


class Replay:
    """Replays blueprints on one node and one mock provider."""

    def __init__(self, client: httpx.AsyncClient, provider: MockProvider, painless: bool) -> None:
        self._client = client
        self._provider = provider
        self._painless = painless
        # Deployed models by blueprint name, with their docs page: a tutorial's later steps use them.
        self._models: dict[str, tuple[str, str]] = {}
        # Blueprints whose model consults a guardrail model before each call.
        self._guarded: set[str] = set()

    async def run(self, blueprint: Blueprint) -> Outcome:
        """Replay one blueprint."""
        if blueprint.needs_painless and not self._painless:
            return Outcome(blueprint.name, Verdict.SKIP, "needs Painless (mlgate.painless not usable)")
        notes: list[str] = []
        try:
            await self._replay(blueprint, notes)
        except Refused as refused:
            notes.insert(0, str(refused))
        except Failed as failed:
            return Outcome(blueprint.name, Verdict.FAIL, str(failed), notes)
        return Outcome(blueprint.name, Verdict.PASS, "", notes)

    async def _create(self, blueprint: Blueprint, connector: dict[str, Any]) -> httpx.Response:
        if blueprint.is_inline:
            return await self._client.post(
                f"{ML}/models/_register", json=register_body(blueprint, connector, None)
            )
        return await self._client.post(f"{ML}/connectors/_create", json=connector)

    async def _expect_refusal(self, blueprint: Blueprint, connector: dict[str, Any], reason: str) -> None:
        response = await self._create(blueprint, connector)
        got = _error_reason(response)
        if response.status_code != 400 or not got.startswith(reason):
            raise Failed(f"expected 400 {reason!r} as published, got {response.status_code} {got!r}")

    async def _replay(self, blueprint: Blueprint, notes: list[str]) -> None:
        base = self._provider.url
        if Defect.MISSING_CREDENTIAL in blueprint.defects:
            await self._expect_refusal(
                blueprint, prepare_connector(blueprint, base, safe_names=True), MISSING_CREDENTIAL
            )
            raise Refused(f"refused as published: {MISSING_CREDENTIAL}")
        unsafe = [d for d in (Defect.UNSAFE_NAME, Defect.UNSAFE_DESCRIPTION) if d in blueprint.defects]
        if unsafe:
            field_name = "name" if unsafe[0] is Defect.UNSAFE_NAME else "description"
            published = prepare_connector(blueprint, base, safe_names=False)
            await self._expect_refusal(blueprint, published, UNSAFE_TEXT.format(field=field_name))
            notes.append(f"placeholder {field_name} refused as published, replayed with a real one")
        if lacks_region(blueprint.connector):
            published = prepare_connector(blueprint, base, safe_names=True, add_region=False)
            await self._expect_refusal(blueprint, published, MISSING_REGION)
            notes.append(f"{MISSING_REGION} as published, replayed with the region of its URL")
        connector = prepare_connector(blueprint, base, safe_names=True)
        model_id = await self._register(blueprint, connector, notes)
        deploy = await self._client.post(f"{ML}/models/{model_id}/_deploy")
        if deploy.status_code != 200:
            raise Failed(f"deploy: {deploy.status_code} {_error_reason(deploy)}")
        self._models[blueprint.name] = (blueprint.source.partition("#")[0], model_id)
        if not blueprint.samples:
            notes.append("no published sample: created, registered and deployed")
        for sample in blueprint.samples:
            await self._predict(blueprint, connector, model_id, sample, notes)

    def _link_guardrail_model(self, blueprint: Blueprint, body: dict[str, Any], notes: list[str]) -> None:
        """A ``model`` guardrail names the tutorial's guardrail model by a placeholder: use the model the
        same docs page deployed before (its connector calls ``/guardrail/``)."""
        guardrails = body.get("guardrails")
        if not isinstance(guardrails, dict) or guardrails.get("type") != "model":
            return
        page = blueprint.source.partition("#")[0]
        for side in ("input_guardrail", "output_guardrail"):
            guard = guardrails.get(side)
            if not isinstance(guard, dict) or not str(guard.get("model_id", "")).startswith("your_"):
                continue
            linked = [
                (name, model_id)
                for name, (source, model_id) in self._models.items()
                if source == page and name != blueprint.name and "guardrail" in name
            ]
            if not linked:
                raise Failed(f"no guardrail model deployed from {page} before {blueprint.name}")
            guard["model_id"] = linked[-1][1]
            self._guarded.add(blueprint.name)
            notes.append(f"{side} model: the one {linked[-1][0]} deployed (same tutorial)")

    async def _register(self, blueprint: Blueprint, connector: dict[str, Any], notes: list[str]) -> str:
        connector_id = None
        if not blueprint.is_inline:
            created = await self._client.post(f"{ML}/connectors/_create", json=connector)
            if created.status_code != 200:
                self._maybe_untrusted(blueprint, created, "create")
                if Defect.MISTYPED_BUILTIN in blueprint.defects and "painless" in _error_reason(created):
                    # ML Commons compiles it only at predict; the error is the same compile failure.
                    raise Refused("mistyped built-in name fails to compile as Painless, at create")
                raise Failed(f"create connector: {created.status_code} {_error_reason(created)}")
            connector_id = created.json()["connector_id"]
        body = register_body(blueprint, connector, connector_id)
        self._link_guardrail_model(blueprint, body, notes)
        registered = await self._client.post(f"{ML}/models/_register", json=body)
        if registered.status_code != 200:
            self._maybe_untrusted(blueprint, registered, "register")
            raise Failed(f"register model: {registered.status_code} {_error_reason(registered)}")
        return str(registered.json()["model_id"])

    @staticmethod
    def _maybe_untrusted(blueprint: Blueprint, response: httpx.Response, step: str) -> None:
        if (
            Defect.SPACED_PLACEHOLDER in blueprint.defects
            and response.status_code == 400
            and _error_reason(response).startswith(UNTRUSTED_URL)
        ):
            raise Refused(f"refused at {step}: URL placeholder with a space never resolves")

    async def _predict(
        self, blueprint: Blueprint, connector: dict[str, Any], model_id: str, sample: Sample, notes: list[str]
    ) -> None:
        action_type = "BATCH_PREDICT" if sample.is_batch else "PREDICT"
        action = _action(connector, action_type)
        post = action.get("post_process_function")
        bodies = provider_bodies(post, _response_filter(connector, sample.request), sample.response)
        if bodies is not None and blueprint.name in self._guarded:
            # The guardrail model is called first and would take the queued answer: compare shapes.
            bodies = None
        self._provider.reset()
        if bodies is not None:
            self._provider.answer_next(*bodies)
        response = await self._client.request(
            sample.method, _predict_path(sample, model_id), json=sample.request
        )
        try:
            answer = response.json()
        except ValueError:
            answer = response.text
        if response.status_code != 200:
            self._maybe_untrusted(blueprint, response, "predict")
            preset = HEAD_PRESET_REFUSALS.get(blueprint.name)
            if preset is not None and _error_reason(response).startswith("Error validating "):
                raise Refused(f"refused by HEAD's preset interface, as ML Commons HEAD refuses it: {preset}")
            if Defect.MISTYPED_BUILTIN in blueprint.defects and "script" in str(answer):
                raise Refused("mistyped built-in name fails as a Painless script")
        compare = compare_batch if sample.is_batch else compare_predict
        comparison = compare(sample.response, response.status_code, answer, exact=bodies is not None)
        if bodies is not None and response.status_code == 200 and self._provider.unused_answers():
            comparison.problems.append("the provider was not called once per result")
        if not comparison.ok:
            raise Failed(f"{sample.label}: " + "; ".join(comparison.problems[:3]))
        notes.extend(sorted(comparison.normalised))
        if sample.defect is not None:
            notes.append(f"{sample.label}: published sample defect: {sample.defect}")
        elif sample.response is None:
            notes.append(f"{sample.label}: no published response, answer checked for shape only")
        elif bodies is None:
            notes.append(f"{sample.label}: shape compared")


async def _configure(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/_cluster/settings",
        json={
            "persistent": {
                "plugins.ml_commons.trusted_connector_endpoints_regex": list(LOOPBACK_TRUSTED),
                "plugins.ml_commons.connector.private_ip_enabled": True,
            }
        },
    )
    if response.status_code != 200:
        raise RuntimeError(f"cannot configure the node: {response.text}")


async def replay_corpus(folder: Path, names: Iterable[str] = ()) -> list[Outcome]:
    """Replay the blueprints of ``folder`` (all, or those named) on a fresh node and mock provider."""
    wanted = set(names)
    blueprints = [b for b in load_corpus(folder) if not wanted or b.name in wanted]
    unknown = wanted - {b.name for b in blueprints}
    if unknown:
        raise ValueError(f"no such blueprint: {', '.join(sorted(unknown))}")
    painless = painless_available()
    with tempfile.TemporaryDirectory(prefix="mlgate-conformance-") as data_dir:
        node = await build_node(Config(data_dir=Path(data_dir), master_key=MASTER_KEY, security=False))
        await node.start()
        provider = await start_provider()
        try:
            transport = httpx.ASGITransport(app=node.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://mlgate") as client:
                await _configure(client)
                replay = Replay(client, provider, painless)
                return [await replay.run(blueprint) for blueprint in blueprints]
        finally:
            await provider.close()
            await node.stop()


def summary(outcomes: Sequence[Outcome]) -> str:
    """``N passed, M failed, K skipped``."""
    counts = {verdict: sum(o.verdict is verdict for o in outcomes) for verdict in Verdict}
    return f"{counts[Verdict.PASS]} passed, {counts[Verdict.FAIL]} failed, {counts[Verdict.SKIP]} skipped"


def main(argv: Sequence[str] | None = None) -> int:
    """Print one line per blueprint and the summary; 1 when anything failed."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.conformance.runner", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--blueprints", type=Path, default=DEFAULT_FOLDER, help="the corpus folder")
    parser.add_argument("names", nargs="*", help="replay only these blueprints (file names without .json)")
    args = parser.parse_args(argv)
    if not (args.blueprints / "index.json").is_file():
        print(f"SKIP conformance: no blueprint corpus at {args.blueprints}")
        print("0 passed, 0 failed, 0 skipped")
        return 0
    outcomes = asyncio.run(replay_corpus(args.blueprints, args.names))
    for outcome in outcomes:
        print(outcome.line())
    print(summary(outcomes))
    return 1 if any(o.verdict is Verdict.FAIL for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
