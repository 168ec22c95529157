"""Compile-time name resolution: local variable slots and the script's functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlgate.painless.conversion import Converter, converter
from mlgate.painless.errors import ScriptCompileError
from mlgate.painless.nodes import Pos, TypeRef
from mlgate.painless.runtime import Frame, Signal

Eval = Callable[[Frame], Any]
Exec = Callable[[Frame], Signal | None]


@dataclass(frozen=True)
class Local:
    """A local variable: its frame slot and the conversions of its declared type on store."""

    slot: int
    store: Converter | None  # implicit conversion for ``=``
    cast: Converter | None  # explicit conversion for compound assignment (``i += 1.5`` truncates)


@dataclass
class FunctionInfo:
    """A script function; ``body`` and ``size`` are filled once its body has been compiled."""

    name: str
    params: tuple[Converter | None, ...]
    returns: Converter | None
    body: Exec | None = None
    size: int = 0


@dataclass
class Slots:
    """The slot counter of the function being compiled."""

    count: int = 0

    def allocate(self) -> int:
        """A new slot number."""
        self.count += 1
        return self.count - 1


@dataclass
class Scope:
    """A block scope; lookups walk outwards to the function's top scope."""

    slots: Slots
    parent: Scope | None = None
    loop_depth: int = 0
    names: dict[str, Local] = field(default_factory=dict)

    def child(self, *, loop: bool = False) -> Scope:
        """A nested block scope (``loop`` marks a loop body, where break/continue are allowed)."""
        return Scope(self.slots, self, self.loop_depth + (1 if loop else 0))

    def lookup(self, name: str) -> Local | None:
        """The variable visible under ``name``, if any."""
        scope: Scope | None = self
        while scope is not None:
            local = scope.names.get(name)
            if local is not None:
                return local
            scope = scope.parent
        return None

    def declare(self, name: str, declared: TypeRef, pos: Pos) -> Local:
        """Declare a variable; Painless forbids shadowing one that is already visible."""
        if declared.name == "void":
            raise ScriptCompileError(f"variable [{name}] cannot be of type [void]", pos.line, pos.column)
        if self.lookup(name) is not None:
            raise ScriptCompileError(f"variable [{name}] is already defined", pos.line, pos.column)
        local = Local(
            self.slots.allocate(),
            converter(declared, explicit=False),
            converter(declared, explicit=True),
        )
        self.names[name] = local
        return local
