"""The abstract syntax tree of a Painless script: plain frozen dataclasses, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Pos:
    """A 1-based source position."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A declared type: a name (``def``, ``int``, ``String``, ``Double``…) and array dimensions."""

    name: str
    dims: int = 0


# --- expressions -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    pos: Pos
    value: Any


@dataclass(frozen=True, slots=True)
class Var:
    pos: Pos
    name: str


@dataclass(frozen=True, slots=True)
class Call:
    """A call of a script-level function: ``escape(x)``."""

    pos: Pos
    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ListLit:
    pos: Pos
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class MapLit:
    pos: Pos
    entries: tuple[tuple[Expr, Expr], ...]


@dataclass(frozen=True, slots=True)
class NewObj:
    pos: Pos
    cls: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class NewArray:
    """``new Double[n]`` (``dims`` holds the sized dimensions)."""

    pos: Pos
    elem: str
    dims: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ArrayInit:
    """``new int[] {1, 2}``."""

    pos: Pos
    type: TypeRef
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Field:
    pos: Pos
    target: Expr
    name: str
    null_safe: bool


@dataclass(frozen=True, slots=True)
class MethodCall:
    pos: Pos
    target: Expr
    name: str
    args: tuple[Expr, ...]
    null_safe: bool


@dataclass(frozen=True, slots=True)
class Index:
    pos: Pos
    target: Expr
    index: Expr


@dataclass(frozen=True, slots=True)
class Unary:
    """``!x`` or ``-x`` / ``+x``."""

    pos: Pos
    op: str
    operand: Expr


@dataclass(frozen=True, slots=True)
class Cast:
    pos: Pos
    type: TypeRef
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic, comparison and equality operators (not ``&&``/``||``)."""

    pos: Pos
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Logical:
    """Short-circuit ``&&`` / ``||``."""

    pos: Pos
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Ternary:
    pos: Pos
    cond: Expr
    then: Expr
    other: Expr


@dataclass(frozen=True, slots=True)
class InstanceOf:
    pos: Pos
    operand: Expr
    type: TypeRef


@dataclass(frozen=True, slots=True)
class Assign:
    """``target op value`` where op is ``=`` or a compound operator such as ``+=``."""

    pos: Pos
    target: Expr
    op: str
    value: Expr


@dataclass(frozen=True, slots=True)
class IncDec:
    """``++x``, ``x--``…: ``delta`` is +1 or -1."""

    pos: Pos
    target: Expr
    delta: int
    prefix: bool


Expr = (
    Literal
    | Var
    | Call
    | ListLit
    | MapLit
    | NewObj
    | NewArray
    | ArrayInit
    | Field
    | MethodCall
    | Index
    | Unary
    | Cast
    | Binary
    | Logical
    | Ternary
    | InstanceOf
    | Assign
    | IncDec
)


# --- statements --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    pos: Pos
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Decl:
    pos: Pos
    type: TypeRef
    names: tuple[tuple[str, Pos, Expr | None], ...]


@dataclass(frozen=True, slots=True)
class ExprStmt:
    pos: Pos
    expr: Expr


@dataclass(frozen=True, slots=True)
class If:
    pos: Pos
    cond: Expr
    then: Stmt
    other: Stmt | None


@dataclass(frozen=True, slots=True)
class For:
    pos: Pos
    init: tuple[Stmt, ...]
    cond: Expr | None
    update: tuple[Expr, ...]
    body: Stmt


@dataclass(frozen=True, slots=True)
class ForEach:
    """``for (T x : items)`` (``type`` set) or ``for (x in items)`` (``type`` None)."""

    pos: Pos
    type: TypeRef | None
    name: str
    items: Expr
    body: Stmt


@dataclass(frozen=True, slots=True)
class While:
    pos: Pos
    cond: Expr
    body: Stmt


@dataclass(frozen=True, slots=True)
class DoWhile:
    pos: Pos
    body: Stmt
    cond: Expr


@dataclass(frozen=True, slots=True)
class Return:
    pos: Pos
    value: Expr | None


@dataclass(frozen=True, slots=True)
class Break:
    pos: Pos


@dataclass(frozen=True, slots=True)
class Continue:
    pos: Pos


@dataclass(frozen=True, slots=True)
class Throw:
    pos: Pos
    value: Expr


@dataclass(frozen=True, slots=True)
class Empty:
    pos: Pos


Stmt = (
    Block | Decl | ExprStmt | If | For | ForEach | While | DoWhile | Return | Break | Continue | Throw | Empty
)


@dataclass(frozen=True, slots=True)
class Function:
    pos: Pos
    returns: TypeRef
    name: str
    params: tuple[tuple[TypeRef, str], ...]
    body: Block


@dataclass(frozen=True, slots=True)
class Program:
    functions: tuple[Function, ...]
    body: tuple[Stmt, ...]
