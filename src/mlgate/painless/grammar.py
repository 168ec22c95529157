"""The lark grammar of the Painless subset (LALR(1), contextual lexer).

Two lexer-level decisions keep the grammar LALR(1) the way Painless' own lexer does:
``CAST`` recognises ``(int)``-style casts to known type names as one token, and
``ARRAY_TYPE`` recognises ``Double[]``-style array types, so neither needs two tokens of lookahead.
After a ``.`` the contextual lexer only accepts a name, so ``params.embeddings.float`` works even
though ``float`` is a type name elsewhere.
"""

from typing import Final

CAST_TYPES: Final = (
    "int",
    "long",
    "short",
    "byte",
    "float",
    "double",
    "boolean",
    "def",
    "String",
    "Object",
    "Integer",
    "Long",
    "Short",
    "Byte",
    "Double",
    "Float",
    "Boolean",
    "Number",
    "Map",
    "HashMap",
    "List",
    "ArrayList",
    "StringBuilder",
    "BigDecimal",
)

GRAMMAR: Final = r"""
start: _item* simple?
_item: function | statement

function: type NAME "(" [param ("," param)*] ")" block
param: type NAME

type: NAME | ARRAY_TYPE | DEF

?statement: block
    | "if" "(" expr ")" statement "else" statement -> if_else
    | "if" "(" expr ")" statement -> if_
    | "for" "(" [for_init] ";" [expr] ";" [for_update] ")" statement -> for_
    | "for" "(" type NAME ":" expr ")" statement -> foreach
    | "for" "(" NAME "in" expr ")" statement -> forin
    | "while" "(" expr ")" statement -> while_
    | simple ";"
    | ";" -> empty

block: "{" statement* simple? "}"

?simple: decl
    | expr -> expr_stmt
    | "return" [expr] -> return_
    | BREAK -> break_
    | CONTINUE -> continue_
    | "throw" expr -> throw
    | "do" block "while" "(" expr ")" -> do_while

decl: type var_decl ("," var_decl)*
var_decl: NAME ["=" expr]
for_init: decl | expr ("," expr)*
for_update: expr ("," expr)*

?expr: ternary
    | unary ASSIGN_OP expr -> assign

?ternary: or_expr
    | or_expr "?" expr ":" ternary -> ternary

?or_expr: and_expr
    | or_expr "||" and_expr -> or_

?and_expr: eq_expr
    | and_expr "&&" eq_expr -> and_

?eq_expr: rel_expr
    | eq_expr EQ_OP rel_expr -> binary

?rel_expr: add_expr
    | rel_expr REL_OP add_expr -> binary
    | rel_expr "instanceof" type -> instanceof

?add_expr: mul_expr
    | add_expr ADD_OP mul_expr -> binary

?mul_expr: unary
    | mul_expr MUL_OP unary -> binary

?unary: postfix
    | "!" unary -> not_
    | ADD_OP unary -> negate
    | INC_OP unary -> pre_incdec
    | CAST unary -> cast
    | "new" NAME ("[" expr "]")+ -> new_array
    | "new" ARRAY_TYPE "{" [expr ("," expr)*] "}" -> array_init

?postfix: primary
    | postfix "." NAME -> field
    | postfix "?." NAME -> safe_field
    | postfix "." NAME "(" args ")" -> method
    | postfix "?." NAME "(" args ")" -> safe_method
    | postfix "[" expr "]" -> index
    | postfix INC_OP -> post_incdec

?primary: "(" expr ")"
    | NAME -> var
    | NAME "(" args ")" -> call
    | "new" NAME "(" args ")" -> new_obj
    | "[" args "]" -> list_lit
    | "[" ":" "]" -> empty_map
    | "[" map_entry ("," map_entry)* "]" -> map_lit
    | STRING_DQ -> string_dq
    | STRING_SQ -> string_sq
    | DECIMAL -> decimal
    | INTEGER -> integer
    | TRUE -> true
    | FALSE -> false
    | NULL -> null

map_entry: expr ":" expr
args: [expr ("," expr)*]

DEF: "def"
TRUE: "true"
FALSE: "false"
NULL: "null"
BREAK: "break"
CONTINUE: "continue"
ASSIGN_OP: "=" | "+=" | "-=" | "*=" | "/=" | "%="
EQ_OP: "===" | "!==" | "==" | "!="
REL_OP: "<=" | ">=" | "<" | ">"
ADD_OP: "+" | "-"
MUL_OP: "*" | "/" | "%"
INC_OP: "++" | "--"
CAST.3: /\(\s*(?:__CAST_TYPES__)(?:\s*\[\s*\])*\s*\)/
ARRAY_TYPE.3: /(?!(?:return|throw|else|in|do)\b)(?:def|[A-Za-z_][A-Za-z_0-9]*)(?:\s*\[\s*\])+/
NAME: /[A-Za-z_][A-Za-z_0-9]*/
STRING_DQ: /"(?:[^"\\]|\\["\\])*"/
STRING_SQ: /'(?:[^'\\]|\\['\\])*'/
DECIMAL.2: /(?:[0-9]+\.[0-9]+|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?|[0-9]+[eE][+-]?[0-9]+[fFdD]?|[0-9]+[fFdD]/
INTEGER: /0[xX][0-9a-fA-F]+[lL]?|[0-9]+[lL]?/

LINE_COMMENT: /\/\/[^\n]*/
BLOCK_COMMENT: /\/\*(?:.|\n)*?\*\//
WS: /\s+/
%ignore WS
%ignore LINE_COMMENT
%ignore BLOCK_COMMENT
""".replace("__CAST_TYPES__", "|".join(CAST_TYPES))
