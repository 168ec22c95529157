"""Fixtures for the Painless tests: the published blueprint scripts, read where they are kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlgate.painless import compile_script

BLUEPRINTS = Path(__file__).resolve().parents[2].parent / "shared" / "blueprints"

BlueprintScript = Callable[[str, str], str]


def load_blueprint(name: str) -> dict[str, Any]:
    """One connector body of the corpus."""
    body: dict[str, Any] = json.loads((BLUEPRINTS / f"{name}.json").read_text(encoding="utf-8"))
    return body


def blueprint_scripts() -> dict[str, list[tuple[str, str]]]:
    """Every Painless script in the corpus -> the (blueprint, function key) pairs that carry it."""
    scripts: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(BLUEPRINTS.glob("*.json")):
        if "." in path.name.removesuffix(".json"):
            continue  # samples, not connector bodies
        body = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(body, dict):
            continue
        for action in body.get("actions") or []:
            for key in ("pre_process_function", "post_process_function"):
                script = action.get(key)
                if script and not script.startswith("connector."):
                    scripts.setdefault(script, []).append((path.stem, key))
    return scripts


@pytest.fixture
def blueprint_script() -> BlueprintScript:
    """``blueprint_script(name, "post_process_function")`` -> the script text of that connector."""
    if not BLUEPRINTS.is_dir():
        pytest.skip("the blueprint corpus (../shared/blueprints) is not available")

    def script(name: str, key: str) -> str:
        action = next(a for a in load_blueprint(name)["actions"] if a["action_type"].lower() == "predict")
        text: str = action[key]
        return text

    return script


@pytest.fixture
def run_blueprint(blueprint_script: BlueprintScript) -> Callable[[str, str, dict[str, Any]], Any]:
    """Compile the named blueprint's script and execute it with ``params``."""

    def run(name: str, key: str, params: dict[str, Any]) -> Any:
        return compile_script(blueprint_script(name, key)).execute(params)

    return run
