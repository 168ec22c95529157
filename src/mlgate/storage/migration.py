"""Versioned schema migrations: numbered SQL files shipped in the package, applied in order."""

from __future__ import annotations

from importlib import resources


def migration_scripts(folder: str) -> list[tuple[int, str]]:
    """The ``NNN_name.sql`` files of ``mlgate.storage/<folder>`` as (number, text), in order."""
    scripts = []
    for entry in (resources.files("mlgate.storage") / folder).iterdir():
        if entry.name.endswith(".sql"):
            scripts.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(scripts)
