"""The metrics of a predict, recorded once when it ends from its RequestTrace (docs/observability.md).

Each deployed model gets its instruments bound once (rebuilt when the model is redeployed), so a
predict pays for a dict lookup and a few adds; per-user token counters are bound on a user's first
predict of the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlgate.domain import telemetry as tm
from mlgate.domain.model_tags import ModelTags, remote_model_tags
from mlgate.domain.request_trace import RequestTrace
from mlgate.domain.token_usage import Prices, prices_of
from mlgate.services.runtime import DeployedModel


@dataclass
class ModelInstruments:
    """One deployed model's bound metric children."""

    deployed: DeployedModel
    tags: ModelTags
    prices: Prices | None
    count: tm.Counter
    latency: tm.Histogram
    call: tm.Histogram
    input_tokens: tm.Histogram
    output_tokens: tm.Histogram
    overhead: tm.Histogram
    # The GenAI client span of each provider call: name and attributes.
    span: tuple[str, dict[str, str | int]]
    provider: dict[int, tm.Histogram] = field(default_factory=dict)
    users: dict[str, tuple[tm.Counter, tm.Counter, tm.Counter | None]] = field(default_factory=dict)


def model_tags(deployed: DeployedModel) -> ModelTags:
    """ML Commons' tags of a deployed model, from its predict action."""
    rc = deployed.connector
    action = rc.actions.get("PREDICT")
    algorithm = str(deployed.model.algorithm or "REMOTE")
    if action is None:
        return ModelTags(algorithm=algorithm)
    return remote_model_tags(action.url, action.request_body, rc.parameters, algorithm)


class PredictMetrics:
    """Binds each deployed model's instruments and records finished predicts."""

    def __init__(self, telemetry: tm.Telemetry, *, trace_content: bool = False) -> None:
        self.telemetry = telemetry
        self._telemetry = telemetry
        self._models: dict[str, ModelInstruments] = {}
        self.trace_content = trace_content

    def instruments(self, deployed: DeployedModel) -> ModelInstruments:
        """The model's instruments (bound on first use and after each redeploy)."""
        found = self._models.get(deployed.model_id)
        if found is not None and found.deployed is deployed:
            return found
        t = self._telemetry
        tags = model_tags(deployed)
        mc = (
            deployed.model_id,
            tags.deployment,
            tags.service_provider,
            tags.algorithm,
            tags.model,
            tags.type,
        )
        genai = (tags.operation, tags.genai_provider, tags.model)
        made = ModelInstruments(
            deployed=deployed,
            tags=tags,
            prices=prices_of(deployed.connector.parameters),
            count=t.counter(tm.PREDICT_COUNT, *mc),
            latency=t.histogram(tm.PREDICT_LATENCY, *mc),
            call=t.histogram(tm.GENAI_DURATION, *genai, ""),
            input_tokens=t.histogram(tm.GENAI_TOKENS, *genai, "input"),
            output_tokens=t.histogram(tm.GENAI_TOKENS, *genai, "output"),
            overhead=t.histogram(tm.OVERHEAD, deployed.model_id),
            span=(
                f"{tags.operation} {tags.model}",
                {
                    "gen_ai.operation.name": tags.operation,
                    "gen_ai.provider.name": tags.genai_provider,
                    "gen_ai.request.model": tags.model,
                    "mlgate.model_id": deployed.model_id,
                },
            ),
        )
        self._models[deployed.model_id] = made
        return made

    def record(
        self, inst: ModelInstruments, trace: RequestTrace, elapsed_ns: int, error: BaseException | None
    ) -> None:
        """A predict of ``inst``'s model ended after ``elapsed_ns`` (failed with ``error`` when given)."""
        t = self._telemetry
        model_id = inst.deployed.model_id
        if error is None:
            # ML Commons counts and times the predicts that answered (MLPredictTaskRunner).
            inst.count.inc()
            inst.latency.observe(elapsed_ns / 1e6)
        else:
            refused = tm.refusal(error)
            if refused is not None:
                t.count(refused[0], model_id, refused[1])
        if trace.attempts:
            if error is None:
                inst.call.observe(trace.call_ns / 1e9)
            else:
                tags = inst.tags
                genai = (tags.operation, tags.genai_provider, tags.model, tm.error_type(error))
                t.observe(tm.GENAI_DURATION, trace.call_ns / 1e9, *genai)
            status = trace.provider_status
            provider = inst.provider.get(status)
            if provider is None:
                provider = inst.provider[status] = t.histogram(
                    tm.PROVIDER_LATENCY, model_id, inst.tags.service_provider, tm.status_class(status)
                )
            provider.observe(trace.provider_ns / 1e9)
            for reason, _ in trace.retries or ():
                t.count(tm.RETRIES, model_id, reason)
        if trace.input_tokens or trace.output_tokens:
            self._tokens(inst, trace)
        inst.overhead.observe(trace.overhead_ns / 1e9)

    def _tokens(self, inst: ModelInstruments, trace: RequestTrace) -> None:
        inst.input_tokens.observe(trace.input_tokens)
        inst.output_tokens.observe(trace.output_tokens)
        counters = inst.users.get(trace.user)
        if counters is None:
            t, model_id, user = self._telemetry, inst.deployed.model_id, trace.user
            spend = None
            if inst.prices is not None:
                spend = t.counter(tm.SPEND, model_id, user, inst.prices.currency)
            counters = inst.users[user] = (
                t.counter(tm.TOKENS, model_id, user, "input"),
                t.counter(tm.TOKENS, model_id, user, "output"),
                spend,
            )
        counters[0].inc(trace.input_tokens)
        counters[1].inc(trace.output_tokens)
        if counters[2] is not None and inst.prices is not None:
            counters[2].inc(inst.prices.cost(trace.input_tokens, trace.output_tokens))
