"""A sandboxed interpreter for the Painless subset used by ML Commons connector scripts.

A leaf package: it depends on the standard library and lark only.
"""

from mlgate.painless.errors import (
    ScriptCompileError,
    ScriptError,
    ScriptLimitError,
    ScriptRuntimeError,
    ScriptYield,
)
from mlgate.painless.jstring import to_java_string
from mlgate.painless.limits import Limits, Slice
from mlgate.painless.script import CompiledScript, compile_script

__all__ = [
    "CompiledScript",
    "Limits",
    "ScriptCompileError",
    "ScriptError",
    "ScriptLimitError",
    "ScriptRuntimeError",
    "ScriptYield",
    "Slice",
    "compile_script",
    "to_java_string",
]
