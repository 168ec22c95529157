"""Sandbox limits applied to every execution of a compiled script."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Upper bounds enforced while a script runs.

    ``max_steps`` counts executed statements plus loop iterations; ``max_depth`` bounds nested calls of
    script functions; ``max_output_chars`` bounds the length of any string built by the script and, so
    that memory stays bounded too, the size of any list, map or array it builds.
    """

    max_steps: int = 1_000_000
    max_depth: int = 100
    max_output_chars: int = 10_000_000
