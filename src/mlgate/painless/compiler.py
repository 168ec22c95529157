"""Compilation of statements, functions and the whole program into Python closures.

A statement closure returns None to fall through or a ``Signal`` (break, continue, return). Blocks
and loop iterations add to the step counter, which bounds every run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlgate.painless import nodes as n
from mlgate.painless.conversion import converter, default_value
from mlgate.painless.errors import ScriptCompileError, ScriptRuntimeError
from mlgate.painless.expressions import Builtin, ExprCompiler
from mlgate.painless.ops import java_error, truth
from mlgate.painless.runtime import BREAK, CONTINUE, RETURN, Frame, Signal
from mlgate.painless.scope import Eval, Exec, FunctionInfo, Scope, Slots
from mlgate.painless.values import JavaArray, JavaException, java_class

# Expressions that may stand alone as a statement, as in Java.
_STATEMENT_EXPRESSIONS = (n.Assign, n.IncDec, n.MethodCall, n.Call, n.NewObj)


def _error(message: str, pos: n.Pos) -> ScriptCompileError:
    return ScriptCompileError(message, pos.line, pos.column)


def _locate(error: ScriptRuntimeError, pos: n.Pos) -> None:
    """Record where a runtime error happened (the innermost statement wins)."""
    if error.line is None:
        error.line, error.column = pos.line, pos.column


def _located(evaluate: Eval, pos: n.Pos) -> Eval:
    def run(f: Frame) -> Any:
        try:
            return evaluate(f)
        except ScriptRuntimeError as error:
            _locate(error, pos)
            raise

    return run


def _condition(evaluate: Eval, pos: n.Pos) -> Callable[[Frame], bool]:
    def test(f: Frame) -> bool:
        try:
            value = evaluate(f)
            if value is True or value is False:
                return bool(value)
            return truth(value)
        except ScriptRuntimeError as error:
            _locate(error, pos)
            raise

    return test


def _iteration_items(value: Any) -> list[Any]:
    if type(value) is list:
        return value
    if type(value) is JavaArray:
        return value.items
    if value is None:
        raise java_error("NullPointerException", "Cannot iterate over a null value")
    raise java_error("IllegalArgumentException", f"Cannot iterate over [{java_class(value)}]")


class ProgramCompiler:
    """Compiles one parsed program; ``builtins`` are helpers such as the injected ``escape``."""

    def __init__(self, builtins: dict[tuple[str, int], Builtin]) -> None:
        self._functions: dict[tuple[str, int], FunctionInfo] = {}
        self._exprs = ExprCompiler(self._functions, builtins)

    def compile(self, program: n.Program) -> tuple[Exec, int]:
        """The main body and the number of slots its frame needs (slot 0 holds ``params``)."""
        for function in program.functions:
            key = (function.name, len(function.params))
            if key in self._functions:
                raise _error(
                    f"function [{function.name}/{len(function.params)}] is already defined", function.pos
                )
            self._functions[key] = FunctionInfo(
                function.name,
                tuple(converter(t, explicit=False) for t, _ in function.params),
                None if function.returns.name == "void" else converter(function.returns, explicit=False),
            )
        for function in program.functions:
            self._compile_function(function)
        scope = Scope(Slots())
        scope.declare("params", n.TypeRef("def"), n.Pos(1, 1))
        body = list(program.body)
        last = body[-1] if body else None
        if isinstance(last, n.ExprStmt):
            # Painless returns the value of a final expression statement.
            body[-1] = n.Return(last.pos, last.expr)
        return self._block(tuple(body), scope), scope.slots.count

    def _compile_function(self, function: n.Function) -> None:
        info = self._functions[(function.name, len(function.params))]
        scope = Scope(Slots())
        for declared, name in function.params:
            scope.declare(name, declared, function.pos)
        info.body = self._block(function.body.body, scope)
        info.size = scope.slots.count

    # --- statements ---

    def _stmt(self, node: n.Stmt, scope: Scope) -> Exec | None:
        """The closure of one statement (None for statements that do nothing)."""
        if isinstance(node, n.Block):
            return self._block(node.body, scope.child())
        method: Callable[[Any, Scope], Exec | None] = getattr(self, "_" + type(node).__name__.lower())
        return method(node, scope)

    def _block(self, statements: tuple[n.Stmt, ...], scope: Scope) -> Exec:
        compiled = [s for s in (self._stmt(node, scope) for node in statements) if s is not None]
        count = len(compiled)

        def run_block(f: Frame) -> Signal | None:
            run = f.run
            run.steps += count
            if run.steps > run.step_mark:
                run.checkpoint()
            for statement in compiled:
                signal = statement(f)
                if signal is not None:
                    return signal
            return None

        return run_block

    def _nested(self, node: n.Stmt, scope: Scope, *, loop: bool = False) -> Exec:
        """A statement in its own scope (an if branch or loop body)."""
        inner = scope.child(loop=loop)
        if isinstance(node, n.Block):
            return self._block(node.body, inner)
        return self._block((node,), inner)

    def _empty(self, node: n.Empty, scope: Scope) -> None:
        return None

    def _decl(self, node: n.Decl, scope: Scope) -> Exec:
        stores: list[tuple[int, Eval | None, Any, Any]] = []
        for name, pos, init in node.names:
            value = self._exprs.compile(init, scope) if init is not None else None
            local = scope.declare(name, node.type, pos)
            stores.append((local.slot, value, local.store, default_value(node.type)))
        position = node.pos

        def declare(f: Frame) -> None:
            try:
                for slot, value, convert, default in stores:
                    if value is None:
                        f.slots[slot] = default
                    elif convert is None:
                        f.slots[slot] = value(f)
                    else:
                        f.slots[slot] = convert(value(f))
            except ScriptRuntimeError as error:
                _locate(error, position)
                raise

        return declare

    def _exprstmt(self, node: n.ExprStmt, scope: Scope) -> Exec:
        if not isinstance(node.expr, _STATEMENT_EXPRESSIONS):
            raise _error("Not a statement.", node.pos)
        evaluate, position = self._exprs.compile(node.expr, scope), node.pos

        def run(f: Frame) -> None:
            try:
                evaluate(f)
            except ScriptRuntimeError as error:
                _locate(error, position)
                raise

        return run

    def _return(self, node: n.Return, scope: Scope) -> Exec:
        if node.value is None:

            def return_nothing(f: Frame) -> Signal:
                f.result = None
                return RETURN

            return return_nothing
        evaluate, position = self._exprs.compile(node.value, scope), node.pos

        def return_value(f: Frame) -> Signal:
            try:
                f.result = evaluate(f)
            except ScriptRuntimeError as error:
                _locate(error, position)
                raise
            return RETURN

        return return_value

    def _throw(self, node: n.Throw, scope: Scope) -> Exec:
        evaluate, position = self._exprs.compile(node.value, scope), node.pos

        def throw(f: Frame) -> None:
            exception = evaluate(f)
            if type(exception) is not JavaException:
                if exception is None:
                    error = ScriptRuntimeError("Cannot throw a null value", "NullPointerException")
                else:
                    error = ScriptRuntimeError(
                        f"Cannot cast {java_class(exception)} to java.lang.Throwable", "ClassCastException"
                    )
            else:
                error = ScriptRuntimeError(exception.message or "", exception.cls)
            _locate(error, position)
            raise error

        return throw

    def _if(self, node: n.If, scope: Scope) -> Exec:
        test = _condition(self._exprs.compile(node.cond, scope), node.pos)
        then = self._nested(node.then, scope)
        if node.other is None:
            return lambda f: then(f) if test(f) else None
        other = self._nested(node.other, scope)
        return lambda f: then(f) if test(f) else other(f)

    def _break(self, node: n.Break, scope: Scope) -> Exec:
        if not scope.loop_depth:
            raise _error("break must be inside a loop", node.pos)
        return lambda f: BREAK

    def _continue(self, node: n.Continue, scope: Scope) -> Exec:
        if not scope.loop_depth:
            raise _error("continue must be inside a loop", node.pos)
        return lambda f: CONTINUE

    def _while(self, node: n.While, scope: Scope) -> Exec:
        test = _condition(self._exprs.compile(node.cond, scope), node.pos)
        body = self._nested(node.body, scope, loop=True)

        def loop(f: Frame) -> Signal | None:
            run = f.run
            while True:
                run.steps += 1
                if run.steps > run.step_mark:
                    run.checkpoint()
                if not test(f):
                    return None
                signal = body(f)
                if signal is BREAK:
                    return None
                if signal is RETURN:
                    return signal

        return loop

    def _dowhile(self, node: n.DoWhile, scope: Scope) -> Exec:
        body = self._nested(node.body, scope, loop=True)
        test = _condition(self._exprs.compile(node.cond, scope), node.pos)

        def loop(f: Frame) -> Signal | None:
            run = f.run
            while True:
                run.steps += 1
                if run.steps > run.step_mark:
                    run.checkpoint()
                signal = body(f)
                if signal is BREAK:
                    return None
                if signal is RETURN:
                    return signal
                if not test(f):
                    return None

        return loop

    def _for(self, node: n.For, scope: Scope) -> Exec:
        outer = scope.child()
        init = [s for s in (self._stmt(stmt, outer) for stmt in node.init) if s is not None]
        test = _condition(self._exprs.compile(node.cond, outer), node.pos) if node.cond is not None else None
        updates = [_located(self._exprs.compile(expr, outer), node.pos) for expr in node.update]
        body = self._nested(node.body, outer, loop=True)

        def loop(f: Frame) -> Signal | None:
            for statement in init:
                statement(f)
            run = f.run
            while True:
                run.steps += 1
                if run.steps > run.step_mark:
                    run.checkpoint()
                if test is not None and not test(f):
                    return None
                signal = body(f)
                if signal is BREAK:
                    return None
                if signal is RETURN:
                    return signal
                for update in updates:
                    update(f)

        return loop

    def _foreach(self, node: n.ForEach, scope: Scope) -> Exec:
        items = _located(self._exprs.compile(node.items, scope), node.pos)
        outer = scope.child()
        local = outer.declare(node.name, node.type or n.TypeRef("def"), node.pos)
        slot, convert = local.slot, local.store
        body = self._nested(node.body, outer, loop=True)

        def loop(f: Frame) -> Signal | None:
            values = _iteration_items(items(f))
            size, run = len(values), f.run
            for i in range(size):
                if len(values) != size:
                    raise java_error(
                        "ConcurrentModificationException", "the list was modified during iteration"
                    )
                run.steps += 1
                if run.steps > run.step_mark:
                    run.checkpoint()
                value = values[i]
                f.slots[slot] = value if convert is None else convert(value)
                signal = body(f)
                if signal is BREAK:
                    return None
                if signal is RETURN:
                    return signal
            if len(values) != size:
                raise java_error("ConcurrentModificationException", "the list was modified during iteration")
            return None

        return loop
