"""Source text -> AST: the lark LALR parser plus a transformer building ``nodes``."""

from __future__ import annotations

import functools
import re
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.tree import Meta

from mlgate.painless import nodes as n
from mlgate.painless.conversion import KNOWN_TYPES
from mlgate.painless.errors import ScriptCompileError
from mlgate.painless.grammar import GRAMMAR
from mlgate.painless.values import INT_MAX, LONG_MAX, JavaFloat

_DQ_ESCAPE = re.compile(r'\\(["\\])')
_SQ_ESCAPE = re.compile(r"\\(['\\])")
_INCREMENTS = {"++": 1, "--": -1}


@functools.cache
def _parser() -> Lark:
    # Built on first use and shared: a Lark LALR parser is immutable once constructed.
    return Lark(GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=True)


def parse(source: str) -> n.Program:
    """Parse a script; raises ScriptCompileError with the 1-based line and column of the problem."""
    try:
        tree = _parser().parse(source)
        program = _Builder().transform(tree)
    except UnexpectedInput as error:
        raise _syntax_error(source, error) from None
    except VisitError as error:
        if isinstance(error.orig_exc, ScriptCompileError):
            raise error.orig_exc from None
        raise
    except RecursionError:
        raise ScriptCompileError("the script is nested too deeply", 1, 1) from None
    assert isinstance(program, n.Program)
    return program


def _syntax_error(source: str, error: UnexpectedInput) -> ScriptCompileError:
    line, column = error.line, error.column
    at_end = isinstance(error, UnexpectedToken) and error.token.type == "$END"
    if at_end or not isinstance(line, int) or line < 1:  # point just past the last character
        lines = source.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
    if isinstance(error, UnexpectedCharacters):
        offset = error.pos_in_stream or 0
        char = source[offset] if offset < len(source) else ""
        if char in "\"'":
            return ScriptCompileError("unterminated string or invalid escape sequence", line, column)
        return ScriptCompileError(f"unexpected character [{char}]", line, column)
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        return ScriptCompileError(f"unexpected token [{error.token}]", line, column)
    return ScriptCompileError("unexpected end of script", line, column)


def _pos(meta: Meta) -> n.Pos:
    if meta.empty:
        return n.Pos(1, 1)
    return n.Pos(meta.line, meta.column)


def _error(message: str, pos: n.Pos) -> ScriptCompileError:
    return ScriptCompileError(message, pos.line, pos.column)


def _tok_pos(token: Token) -> n.Pos:
    return n.Pos(token.line or 1, token.column or 1)


def _present(items: Any) -> tuple[Any, ...]:
    """Children of an optional list: lark fills an absent ``[...]`` with None."""
    return tuple(item for item in items if item is not None)


@v_args(meta=True)
class _Builder(Transformer[Token, Any]):
    """Turns lark's parse tree into ``nodes``; one method per grammar rule or alias."""

    # --- program structure ---

    def start(self, meta: Meta, items: list[Any]) -> n.Program:
        functions: list[n.Function] = []
        body: list[n.Stmt] = []
        for item in items:
            if isinstance(item, n.Function):
                if body:
                    raise ScriptCompileError(
                        f"function [{item.name}] must be declared before the first statement",
                        item.pos.line,
                        item.pos.column,
                    )
                functions.append(item)
            else:
                body.append(item)
        return n.Program(tuple(functions), tuple(body))

    def function(self, meta: Meta, items: list[Any]) -> n.Function:
        returns, name, *params, body = items
        return n.Function(_pos(meta), returns, str(name), _present(params), body)

    def param(self, meta: Meta, items: list[Any]) -> tuple[n.TypeRef, str]:
        return items[0], str(items[1])

    def type(self, meta: Meta, items: list[Token]) -> n.TypeRef:
        token = items[0]
        text = str(token)
        name = re.match(r"[A-Za-z_0-9]+", text)
        assert name is not None
        if name.group() not in KNOWN_TYPES:
            raise _error(f"cannot resolve type [{name.group()}]", _tok_pos(token))
        return n.TypeRef(name.group(), text.count("["))

    # --- statements ---

    def block(self, meta: Meta, items: list[Any]) -> n.Block:
        return n.Block(_pos(meta), tuple(items))

    def if_else(self, meta: Meta, items: list[Any]) -> n.If:
        return n.If(_pos(meta), items[0], items[1], items[2])

    def if_(self, meta: Meta, items: list[Any]) -> n.If:
        return n.If(_pos(meta), items[0], items[1], None)

    def for_(self, meta: Meta, items: list[Any]) -> n.For:
        init, cond, update, body = items
        return n.For(_pos(meta), init or (), cond, update or (), body)

    def for_init(self, meta: Meta, items: list[Any]) -> tuple[n.Stmt, ...]:
        if isinstance(items[0], n.Decl):
            return (items[0],)
        return tuple(n.ExprStmt(expr.pos, expr) for expr in items)

    def for_update(self, meta: Meta, items: list[Any]) -> tuple[n.Expr, ...]:
        return tuple(items)

    def foreach(self, meta: Meta, items: list[Any]) -> n.ForEach:
        return n.ForEach(_pos(meta), items[0], str(items[1]), items[2], items[3])

    def forin(self, meta: Meta, items: list[Any]) -> n.ForEach:
        return n.ForEach(_pos(meta), None, str(items[0]), items[1], items[2])

    def while_(self, meta: Meta, items: list[Any]) -> n.While:
        return n.While(_pos(meta), items[0], items[1])

    def do_while(self, meta: Meta, items: list[Any]) -> n.DoWhile:
        return n.DoWhile(_pos(meta), items[0], items[1])

    def empty(self, meta: Meta, items: list[Any]) -> n.Empty:
        return n.Empty(_pos(meta))

    def decl(self, meta: Meta, items: list[Any]) -> n.Decl:
        return n.Decl(_pos(meta), items[0], tuple(items[1:]))

    def var_decl(self, meta: Meta, items: list[Any]) -> tuple[str, n.Pos, n.Expr | None]:
        return str(items[0]), _tok_pos(items[0]), items[1]

    def expr_stmt(self, meta: Meta, items: list[Any]) -> n.ExprStmt:
        return n.ExprStmt(_pos(meta), items[0])

    def return_(self, meta: Meta, items: list[Any]) -> n.Return:
        return n.Return(_pos(meta), items[0])

    def break_(self, meta: Meta, items: list[Any]) -> n.Break:
        return n.Break(_pos(meta))

    def continue_(self, meta: Meta, items: list[Any]) -> n.Continue:
        return n.Continue(_pos(meta))

    def throw(self, meta: Meta, items: list[Any]) -> n.Throw:
        return n.Throw(_pos(meta), items[0])

    # --- expressions ---

    def assign(self, meta: Meta, items: list[Any]) -> n.Assign:
        target, op, value = items
        if not isinstance(target, n.Var | n.Field | n.Index):
            raise _error("invalid assignment target", _pos(meta))
        return n.Assign(_pos(meta), target, str(op), value)

    def ternary(self, meta: Meta, items: list[Any]) -> n.Ternary:
        return n.Ternary(_pos(meta), items[0], items[1], items[2])

    def or_(self, meta: Meta, items: list[Any]) -> n.Logical:
        return n.Logical(_pos(meta), "||", items[0], items[1])

    def and_(self, meta: Meta, items: list[Any]) -> n.Logical:
        return n.Logical(_pos(meta), "&&", items[0], items[1])

    def binary(self, meta: Meta, items: list[Any]) -> n.Binary:
        return n.Binary(_pos(meta), str(items[1]), items[0], items[2])

    def instanceof(self, meta: Meta, items: list[Any]) -> n.InstanceOf:
        return n.InstanceOf(_pos(meta), items[0], items[1])

    def not_(self, meta: Meta, items: list[Any]) -> n.Unary:
        return n.Unary(_pos(meta), "!", items[0])

    def negate(self, meta: Meta, items: list[Any]) -> n.Expr:
        op, operand = str(items[0]), items[1]
        if isinstance(operand, n.Literal) and type(operand.value) in (int, float):
            # Fold so that -2147483648 is an int literal, as in Java.
            return n.Literal(_pos(meta), -operand.value if op == "-" else operand.value)
        return n.Unary(_pos(meta), op, operand)

    def pre_incdec(self, meta: Meta, items: list[Any]) -> n.IncDec:
        return n.IncDec(_pos(meta), self._lvalue(items[1], meta), _INCREMENTS[str(items[0])], True)

    def post_incdec(self, meta: Meta, items: list[Any]) -> n.IncDec:
        return n.IncDec(_pos(meta), self._lvalue(items[0], meta), _INCREMENTS[str(items[1])], False)

    def _lvalue(self, target: n.Expr, meta: Meta) -> n.Expr:
        if not isinstance(target, n.Var | n.Field | n.Index):
            raise _error("invalid target for ++ or --", _pos(meta))
        return target

    def cast(self, meta: Meta, items: list[Any]) -> n.Cast:
        text = str(items[0])[1:-1].strip()
        name = re.match(r"[A-Za-z_0-9]+", text)
        assert name is not None
        return n.Cast(_pos(meta), n.TypeRef(name.group(), text.count("[")), items[1])

    def new_array(self, meta: Meta, items: list[Any]) -> n.NewArray:
        elem = str(items[0])
        if elem not in KNOWN_TYPES:
            raise _error(f"cannot resolve type [{elem}]", _tok_pos(items[0]))
        return n.NewArray(_pos(meta), elem, tuple(items[1:]))

    def array_init(self, meta: Meta, items: list[Any]) -> n.ArrayInit:
        array_type = self.type(meta, [items[0]])
        return n.ArrayInit(_pos(meta), array_type, _present(items[1:]))

    def field(self, meta: Meta, items: list[Any]) -> n.Field:
        return n.Field(_pos(meta), items[0], str(items[1]), False)

    def safe_field(self, meta: Meta, items: list[Any]) -> n.Field:
        return n.Field(_pos(meta), items[0], str(items[1]), True)

    def method(self, meta: Meta, items: list[Any]) -> n.MethodCall:
        return n.MethodCall(_pos(meta), items[0], str(items[1]), items[2], False)

    def safe_method(self, meta: Meta, items: list[Any]) -> n.MethodCall:
        return n.MethodCall(_pos(meta), items[0], str(items[1]), items[2], True)

    def index(self, meta: Meta, items: list[Any]) -> n.Index:
        return n.Index(_pos(meta), items[0], items[1])

    def var(self, meta: Meta, items: list[Any]) -> n.Var:
        return n.Var(_pos(meta), str(items[0]))

    def call(self, meta: Meta, items: list[Any]) -> n.Call:
        return n.Call(_pos(meta), str(items[0]), items[1])

    def new_obj(self, meta: Meta, items: list[Any]) -> n.NewObj:
        return n.NewObj(_pos(meta), str(items[0]), items[1])

    def list_lit(self, meta: Meta, items: list[Any]) -> n.ListLit:
        return n.ListLit(_pos(meta), items[0])

    def empty_map(self, meta: Meta, items: list[Any]) -> n.MapLit:
        return n.MapLit(_pos(meta), ())

    def map_lit(self, meta: Meta, items: list[Any]) -> n.MapLit:
        return n.MapLit(_pos(meta), tuple(items))

    def map_entry(self, meta: Meta, items: list[Any]) -> tuple[n.Expr, n.Expr]:
        return items[0], items[1]

    def args(self, meta: Meta, items: list[Any]) -> tuple[n.Expr, ...]:
        return _present(items)

    # --- literals ---

    def string_dq(self, meta: Meta, items: list[Token]) -> n.Literal:
        return n.Literal(_pos(meta), _DQ_ESCAPE.sub(r"\1", str(items[0])[1:-1]))

    def string_sq(self, meta: Meta, items: list[Token]) -> n.Literal:
        return n.Literal(_pos(meta), _SQ_ESCAPE.sub(r"\1", str(items[0])[1:-1]))

    def integer(self, meta: Meta, items: list[Token]) -> n.Literal:
        text = str(items[0])
        is_long = text[-1] in "lL"
        digits = text.rstrip("lL")
        if digits[:2] in ("0x", "0X"):
            value = int(digits, 16)
        elif len(digits) > 1 and digits.startswith("0"):
            if not set(digits) <= set("01234567"):
                raise _error(f"Invalid octal constant [{text}].", _tok_pos(items[0]))
            value = int(digits, 8)
        else:
            value = int(digits)
        # One past the maximum is allowed so that a negated literal reaches the minimum.
        if value > (LONG_MAX if is_long else INT_MAX) + 1:
            kind = "long" if is_long else "int"
            raise _error(f"Invalid {kind} constant [{text}].", _tok_pos(items[0]))
        return n.Literal(_pos(meta), value)

    def decimal(self, meta: Meta, items: list[Token]) -> n.Literal:
        text = str(items[0])
        if text[-1] in "fF":
            return n.Literal(_pos(meta), JavaFloat(float(text[:-1])))
        return n.Literal(_pos(meta), float(text.rstrip("dD")))

    def true(self, meta: Meta, items: list[Any]) -> n.Literal:
        return n.Literal(_pos(meta), True)

    def false(self, meta: Meta, items: list[Any]) -> n.Literal:
        return n.Literal(_pos(meta), False)

    def null(self, meta: Meta, items: list[Any]) -> n.Literal:
        return n.Literal(_pos(meta), None)
