"""Compilation of expressions into Python closures ``(frame) -> value``.

Everything that can be decided from the source (which variable slot, which static method, which
constructor, which operator) is decided here, once; the closures only do the dynamic part.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlgate.painless import nodes as n
from mlgate.painless.containers import field_get, field_set, index_get, index_set
from mlgate.painless.conversion import KNOWN_TYPES, converter, default_value
from mlgate.painless.cost import WRITE
from mlgate.painless.errors import ScriptCompileError, ScriptLimitError
from mlgate.painless.members import constructor, invoke
from mlgate.painless.numeric import STATIC_CLASSES, STATIC_FIELDS, STATICS
from mlgate.painless.ops import (
    add,
    arith,
    compare,
    is_instance,
    is_number,
    java_eq,
    java_error,
    negate,
    truth,
)
from mlgate.painless.runtime import Frame, Run
from mlgate.painless.scope import Eval, FunctionInfo, Scope
from mlgate.painless.strings import append
from mlgate.painless.values import HashMap, JavaArray, StringBuilder

Builtin = Callable[[list[Any], Run], Any]


def _error(message: str, pos: n.Pos) -> ScriptCompileError:
    return ScriptCompileError(message, pos.line, pos.column)


def _binary_op(op: str) -> Callable[[Any, Any, Run], Any]:
    """The runtime function of a binary operator (also used by compound assignment)."""
    if op == "+":
        return add
    if op in ("-", "*", "/", "%"):
        return lambda a, b, run: arith(op, a, b)
    if op in ("<", "<=", ">", ">="):
        return lambda a, b, run: compare(op, a, b)
    if op == "==":
        return java_eq
    if op == "!=":
        return lambda a, b, run: not java_eq(a, b, run)
    if op == "===":
        return lambda a, b, run: a is b or (not isinstance(a, list | dict) and java_eq(a, b, run))
    if op == "!==":
        return lambda a, b, run: not (a is b or (not isinstance(a, list | dict) and java_eq(a, b, run)))
    raise AssertionError(op)


class ExprCompiler:
    """Compiles expressions of one script against its functions and built-in helpers."""

    def __init__(
        self, functions: dict[tuple[str, int], FunctionInfo], builtins: dict[tuple[str, int], Builtin]
    ):
        self._functions = functions
        self._builtins = builtins

    def compile(self, node: n.Expr, scope: Scope) -> Eval:
        """The closure evaluating ``node``."""
        method: Callable[[Any, Scope], Eval] = getattr(self, "_" + type(node).__name__.lower())
        return method(node, scope)

    def _all(self, nodes: tuple[n.Expr, ...], scope: Scope) -> tuple[Eval, ...]:
        return tuple(self.compile(node, scope) for node in nodes)

    def _is_class(self, node: n.Expr, scope: Scope) -> bool:
        return isinstance(node, n.Var) and node.name in STATIC_CLASSES and scope.lookup(node.name) is None

    # --- leaves ---

    def _literal(self, node: n.Literal, scope: Scope) -> Eval:
        value = node.value
        return lambda f: value

    def _var(self, node: n.Var, scope: Scope) -> Eval:
        local = scope.lookup(node.name)
        if local is None:
            if node.name in STATIC_CLASSES or node.name in KNOWN_TYPES:
                raise _error(f"cannot use the class [{node.name}] as a value", node.pos)
            raise _error(f"cannot resolve symbol [{node.name}]", node.pos)
        slot = local.slot
        return lambda f: f.slots[slot]

    def _listlit(self, node: n.ListLit, scope: Scope) -> Eval:
        items = self._all(node.items, scope)
        return lambda f: [item(f) for item in items]

    def _maplit(self, node: n.MapLit, scope: Scope) -> Eval:
        entries = tuple((self.compile(k, scope), self.compile(v, scope)) for k, v in node.entries)

        def build(f: Frame) -> HashMap:
            created = HashMap()
            for key, value in entries:
                created[key(f)] = value(f)
            created.grow()
            return created

        return build

    # --- member access ---

    def _field(self, node: n.Field, scope: Scope) -> Eval:
        name = node.name
        if self._is_class(node.target, scope):
            assert isinstance(node.target, n.Var)
            key = (node.target.name, name)
            if key not in STATIC_FIELDS:
                raise _error(f"cannot resolve field [{name}] of class [{node.target.name}]", node.pos)
            value = STATIC_FIELDS[key]
            return lambda f: value
        target = self.compile(node.target, scope)
        null_safe = node.null_safe

        def get(f: Frame) -> Any:
            value = target(f)
            if type(value) is dict and name != "empty":
                return value.get(name)
            if value is None and null_safe:
                return None
            return field_get(value, name)

        return get

    def _methodcall(self, node: n.MethodCall, scope: Scope) -> Eval:
        args = self._all(node.args, scope)
        if self._is_class(node.target, scope):
            assert isinstance(node.target, n.Var)
            static = STATICS.get((node.target.name, node.name, len(args)))
            if static is None:
                raise _error(
                    f"Unknown call [{node.name}] with [{len(args)}] arguments on type [{node.target.name}].",
                    node.pos,
                )
            return lambda f: static([arg(f) for arg in args], f.run)
        target = self.compile(node.target, scope)
        name, key, null_safe = node.name, (node.name, len(args)), node.null_safe
        if key == ("append", 1):
            # The hot path of every StringBuilder-based script: skip the generic dispatch.
            (value,) = args

            def append_one(f: Frame) -> Any:
                receiver = target(f)
                if type(receiver) is StringBuilder:
                    run, text = f.run, value(f)
                    if type(text) is not str:
                        return append(receiver, text, run)
                    # strings.append, inlined: the charge is a counter and a comparison.
                    if len(receiver) + len(text) > run.max_chars:
                        run.charge_string(len(receiver) + len(text))  # refused
                    run.cost += len(text) * WRITE
                    if run.cost > run.cost_mark:
                        run.checkpoint()
                    receiver.append(text)
                    return receiver
                if receiver is None and null_safe:
                    return None
                return invoke(receiver, name, key, [value(f)], f.run)

            return append_one
        if len(args) == 1:
            (single,) = args

            def call_one(f: Frame) -> Any:
                receiver = target(f)
                if receiver is None and null_safe:
                    return None
                return invoke(receiver, name, key, [single(f)], f.run)

            return call_one

        def call(f: Frame) -> Any:
            receiver = target(f)
            if receiver is None and null_safe:
                return None
            return invoke(receiver, name, key, [arg(f) for arg in args], f.run)

        return call

    def _index(self, node: n.Index, scope: Scope) -> Eval:
        target, index = self.compile(node.target, scope), self.compile(node.index, scope)

        def get(f: Frame) -> Any:
            value, key = target(f), index(f)
            if type(value) is list and type(key) is int and 0 <= key < len(value):
                return value[key]
            return index_get(value, key)

        return get

    def _call(self, node: n.Call, scope: Scope) -> Eval:
        args = self._all(node.args, scope)
        info = self._functions.get((node.name, len(args)))
        if info is None:
            builtin = self._builtins.get((node.name, len(args)))
            if builtin is None:
                raise _error(f"Unknown call [{node.name}] with [{len(args)}] arguments.", node.pos)
            return lambda f: builtin([arg(f) for arg in args], f.run)
        return _user_call(info, args)

    # --- construction ---

    def _newobj(self, node: n.NewObj, scope: Scope) -> Eval:
        args = self._all(node.args, scope)
        create = constructor(node.cls, len(args))
        if create is None:
            if constructor(node.cls, 0) or constructor(node.cls, 1):
                raise _error(f"constructor [{node.cls}/{len(args)}] not found", node.pos)
            raise _error(f"cannot resolve type [{node.cls}]", node.pos)
        return lambda f: create([arg(f) for arg in args], f.run)

    def _newarray(self, node: n.NewArray, scope: Scope) -> Eval:
        dims = self._all(node.dims, scope)
        elem = node.elem
        if elem == "void":
            raise _error("cannot create an array of [void]", node.pos)

        # levels[k]: the elements of an array that still has k dimensions below it.
        levels = [ArrayElement.get(elem, depth) for depth in range(len(dims))]
        default = default_value(n.TypeRef(elem))

        def build(sizes: list[int]) -> JavaArray:
            size, rest = sizes[0], sizes[1:]
            level = levels[len(rest)]
            if rest:
                return JavaArray(level.label, [build(rest) for _ in range(size)], level.store)
            return JavaArray(level.label, [default] * size, level.store)

        def create(f: Frame) -> JavaArray:
            sizes = [dim(f) for dim in dims]
            count, total = 1, 0  # arrays at a level, elements of every level
            for size in sizes:
                if type(size) is not int:
                    raise java_error("ClassCastException", "array dimensions must be int")
                if size < 0:
                    raise java_error("NegativeArraySizeException", str(size))
                count *= size
                total += count
            f.run.check_size(total, total)
            return build(sizes)

        return create

    def _arrayinit(self, node: n.ArrayInit, scope: Scope) -> Eval:
        items = self._all(node.items, scope)
        elem = ArrayElement.get(node.type.name, node.type.dims - 1)
        store = elem.store

        def create(f: Frame) -> JavaArray:
            values = [item(f) for item in items]
            return JavaArray(elem.label, values if store is None else [store(v) for v in values], store)

        return create

    # --- operators ---

    def _unary(self, node: n.Unary, scope: Scope) -> Eval:
        operand = self.compile(node.operand, scope)
        if node.op == "!":

            def logical_not(f: Frame) -> bool:
                value = operand(f)
                if value is True:
                    return False
                if value is False:
                    return True
                return not truth(value)

            return logical_not
        if node.op == "-":
            return lambda f: negate(operand(f))

        def plus(f: Frame) -> Any:
            value = operand(f)
            return value if is_number(value) else arith("+", 0, value)

        return plus

    def _cast(self, node: n.Cast, scope: Scope) -> Eval:
        operand = self.compile(node.operand, scope)
        cast = converter(node.type, explicit=True)
        if cast is None:
            return operand
        return lambda f: cast(operand(f))

    def _binary(self, node: n.Binary, scope: Scope) -> Eval:
        left, right = self.compile(node.left, scope), self.compile(node.right, scope)
        op = node.op
        if op == "+":
            return lambda f: add(left(f), right(f), f.run)
        if op == "<":

            def less(f: Frame) -> bool:
                a, b = left(f), right(f)
                if type(a) is int and type(b) is int:
                    return bool(a < b)
                return compare("<", a, b)

            return less
        if op == "==":
            return lambda f: java_eq(left(f), right(f), f.run)
        if op == "!=":
            return lambda f: not java_eq(left(f), right(f), f.run)
        function = _binary_op(op)
        return lambda f: function(left(f), right(f), f.run)

    def _logical(self, node: n.Logical, scope: Scope) -> Eval:
        left, right = self.compile(node.left, scope), self.compile(node.right, scope)
        if node.op == "&&":
            return lambda f: truth(left(f)) and truth(right(f))
        return lambda f: truth(left(f)) or truth(right(f))

    def _ternary(self, node: n.Ternary, scope: Scope) -> Eval:
        cond, then, other = (self.compile(x, scope) for x in (node.cond, node.then, node.other))
        return lambda f: then(f) if truth(cond(f)) else other(f)

    def _instanceof(self, node: n.InstanceOf, scope: Scope) -> Eval:
        operand = self.compile(node.operand, scope)
        name, dims = node.type.name, node.type.dims
        return lambda f: is_instance(operand(f), name, dims)

    # --- assignment ---

    def _assign(self, node: n.Assign, scope: Scope) -> Eval:
        value = self.compile(node.value, scope)
        op = None if node.op == "=" else _binary_op(node.op[0])
        return self._store(node.target, scope, node.pos, lambda old, f: value(f), op, result_old=False)

    def _incdec(self, node: n.IncDec, scope: Scope) -> Eval:
        delta = node.delta
        return self._store(
            node.target, scope, node.pos, lambda old, f: delta, _binary_op("+"), not node.prefix
        )

    def _store(
        self,
        target: n.Expr,
        scope: Scope,
        pos: n.Pos,
        operand: Callable[[Any, Frame], Any],
        op: Callable[[Any, Any, Run], Any] | None,
        result_old: bool,
    ) -> Eval:
        """Assignment to a variable, field or element; ``op`` combines old and new for ``+=``/``++``."""
        if isinstance(target, n.Var):
            local = scope.lookup(target.name)
            if local is None:
                raise _error(f"cannot resolve symbol [{target.name}]", target.pos)
            slot = local.slot
            convert = local.store if op is None else local.cast

            def store_local(f: Frame) -> Any:
                old = f.slots[slot]
                new = operand(old, f) if op is None else op(old, operand(old, f), f.run)
                if convert is not None:
                    new = convert(new)
                f.slots[slot] = new
                return old if result_old else new

            return store_local
        if isinstance(target, n.Field):
            obj, name = self.compile(target.target, scope), target.name

            def store_field(f: Frame) -> Any:
                holder = obj(f)
                old = field_get(holder, name) if op is not None else None
                new = operand(old, f) if op is None else op(old, operand(old, f), f.run)
                field_set(holder, name, new, f.run)
                return old if result_old else new

            return store_field
        assert isinstance(target, n.Index)
        obj, index = self.compile(target.target, scope), self.compile(target.index, scope)

        def store_index(f: Frame) -> Any:
            holder, key = obj(f), index(f)
            old = index_get(holder, key) if op is not None else None
            new = operand(old, f) if op is None else op(old, operand(old, f), f.run)
            index_set(holder, key, new, f.run)
            return old if result_old else new

        return store_index


class ArrayElement:
    """Element-type information for arrays: the label stored on the array and its store conversion."""

    __slots__ = ("label", "store")

    def __init__(self, label: str, store: Callable[[Any], Any] | None) -> None:
        self.label = label
        self.store = store

    @staticmethod
    def get(name: str, dims: int) -> ArrayElement:
        """The element description of an array of ``name`` with ``dims`` further dimensions."""
        return ArrayElement(name + "[]" * dims, converter(n.TypeRef(name, dims), explicit=False))


def _user_call(info: FunctionInfo, args: tuple[Eval, ...]) -> Eval:
    params = info.params

    def call(f: Frame) -> Any:
        values = [arg(f) for arg in args]
        run = f.run
        if run.depth >= run.max_depth:
            raise ScriptLimitError(
                f"maximum call depth of {run.max_depth} exceeded in function [{info.name}]"
            )
        frame = Frame(info.size, run)
        slots = frame.slots
        for i, convert in enumerate(params):
            slots[i] = values[i] if convert is None else convert(values[i])
        body = info.body
        assert body is not None
        run.depth += 1
        try:
            body(frame)
        finally:
            run.depth -= 1
        result = frame.result
        return result if info.returns is None else info.returns(result)

    return call
