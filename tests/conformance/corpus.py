"""The blueprint corpus as the runner sees it: ``index.json`` entries with their sample files loaded."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

# Phrases of index.json "issues" (MANIFEST.md, "Published defects") and what each makes mlgate do.
_MISSING_CREDENTIAL = 'rejects at create: "Missing credential"'
_UNSAFE_NAME = "name placeholder"
_UNSAFE_DESCRIPTION = "description placeholder"
_SPACED_PLACEHOLDER = "placeholder with a space"
_MISTYPED_BUILTIN = "typo in built-in function name"


# Published sample responses that the published connector and request cannot produce on any ML Commons
# version (the docs show the output of another connector, or of another request). Each is reported by
# name; the response ML Commons gives instead is what the runner expects (None: any successful predict).
SAMPLE_DEFECTS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "bedrock_cohere_embed_english_v3_aksk.predict_response.json": (
        "sample shows one 'response' tensor for two texts; cohere.embedding gives one sentence_embedding each",
        None,
    ),
    "bedrock_cohere_embed_multilingual_v3_aksk.predict_response.json": (
        "sample shows one 'response' tensor for two texts; cohere.embedding gives one sentence_embedding each",
        None,
    ),
    "bedrock_titan_embed_v1_standard_aksk.predict_response.json": (
        "sample shows the raw Bedrock body; the connector's bedrock.embedding gives a sentence_embedding tensor",
        None,
    ),
    "bedrock_claude_v2_tutorial_guardrail_headers.predict_response.json": (
        "sample request never supplies prompt and anthropic_version, so the request is refused before any call",
        {
            "status": 400,
            "error": {
                "type": "illegal_argument_exception",
                "reason": "Some parameter placeholder not filled in payload: prompt, anthropic_version",
            },
        },
    ),
}


class Defect(enum.Enum):
    """A published defect that ML Commons refuses; the runner expects mlgate to refuse it the same way."""

    MISSING_CREDENTIAL = "roleArn-only credential"
    UNSAFE_NAME = "placeholder connector name"
    UNSAFE_DESCRIPTION = "placeholder connector description"
    SPACED_PLACEHOLDER = "URL placeholder with a space"
    MISTYPED_BUILTIN = "mistyped built-in name (run as Painless)"


# Published samples that ML Commons HEAD itself refuses: the preset interface it attaches at register
# (ModelInterfaceUtils) does not accept what the blueprint sends or gets back. mlgate applies the same
# presets, so the refusal — and exactly that refusal — is the expected outcome. Each is named in the output.
HEAD_PRESET_REFUSALS = {
    "amazon_comprehend_detect_dominant_language_aksk": "output schema wants the pre-3.3 dataAsMap.response wrapper",
    "bedrock_claude_v2_aksk": "output schema requires `type`, absent from the older Bedrock body the docs show",
    "bedrock_titan_mm_embed_painless_aksk": "output schema wants dataAsMap; the script returns embedding tensors",
    "bedrock_claude3_7_converse_tutorial_agentic_search_inline": "input schema requires parameters.inputs",
}

_DEFECTS = {
    _MISSING_CREDENTIAL: Defect.MISSING_CREDENTIAL,
    _UNSAFE_NAME: Defect.UNSAFE_NAME,
    _UNSAFE_DESCRIPTION: Defect.UNSAFE_DESCRIPTION,
    _SPACED_PLACEHOLDER: Defect.SPACED_PLACEHOLDER,
    _MISTYPED_BUILTIN: Defect.MISTYPED_BUILTIN,
}


@dataclass(frozen=True)
class Sample:
    """One published predict call: request line, request body and (when published) the response."""

    method: str
    path: str
    query: str
    request: Any
    response: Any | None
    label: str
    defect: str | None = None

    @property
    def is_batch(self) -> bool:
        """A ``_batch_predict`` sample."""
        return self.path.rstrip("/").endswith("_batch_predict")


@dataclass(frozen=True)
class Blueprint:
    """One connector body of the corpus with everything the runner needs to replay it."""

    name: str
    provider: str
    connector: dict[str, Any]
    register_request: dict[str, Any] | None
    samples: tuple[Sample, ...]
    needs_painless: bool
    defects: frozenset[Defect]
    # The docs page (``path#Lnn``) the connector was published on; tutorials share one page.
    source: str = ""

    @property
    def is_inline(self) -> bool:
        """The connector is published inside a ``models/_register`` body."""
        return self.register_request is not None and "connector" in self.register_request


def _load(folder: Path, name: str | None) -> Any:
    return None if name is None else orjson.loads((folder / name).read_bytes())


def _sample(folder: Path, entry: dict[str, Any]) -> Sample:
    method, _, target = entry["request_line"].partition(" ")
    path, _, query = target.strip().partition("?")
    response = _load(folder, entry.get("response_file"))
    defect = SAMPLE_DEFECTS.get(entry.get("response_file") or "")
    if defect is not None:
        response = defect[1]
    return Sample(
        method=method,
        path="/" + path.lstrip("/"),
        query=query,
        request=_load(folder, entry.get("request_file")),
        response=response,
        label=entry.get("request_file") or entry["request_line"],
        defect=None if defect is None else defect[0],
    )


def _defects(issues: list[str]) -> frozenset[Defect]:
    return frozenset(defect for phrase, defect in _DEFECTS.items() for issue in issues if phrase in issue)


def load_corpus(folder: Path) -> list[Blueprint]:
    """Every entry of ``folder/index.json``, in index order."""
    blueprints = []
    for entry in orjson.loads((folder / "index.json").read_bytes()):
        blueprints.append(
            Blueprint(
                name=entry["file"].removesuffix(".json"),
                provider=entry["provider"],
                connector=_load(folder, entry["file"]),
                register_request=_load(folder, entry.get("register_request")),
                samples=tuple(_sample(folder, s) for s in entry["samples"]),
                needs_painless=bool(entry["needs_painless"]),
                defects=_defects(entry.get("issues") or []),
                source=str(entry.get("source") or ""),
            )
        )
    return blueprints
