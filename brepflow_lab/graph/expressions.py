"""Safe parameter expressions with units: ``"@L - 2*@wall"``, ``"10 mm + 0.5 in"``, ``"sin(30)"``.

Graph files are untrusted, so an expression is never handed to ``eval``/``exec``/``compile``.
It goes through three stages, each of which only lets through what it knows:

1. **Lexer** (:func:`_lex`). A small regular-expression tokenizer accepts numbers, ``@name``
   references, whitelisted words (functions, constants, ``and``/``or``/``not``/``if``/``else``,
   unit words) and arithmetic/comparison operators. Everything else — quotes, brackets, dots,
   ``;``, ``=``, ``lambda``, ``__import__``, unknown names — is refused here, with the position.
   It rewrites the text into a *normalised* Python source: ``@L`` becomes a placeholder name
   ``_p0``, ``10 mm`` / ``(a+b) mm`` become calls of private unit nodes ``_u_mm(10)``, and numbers
   are re-printed as floats (so no integer arithmetic can build huge values).
2. **Whitelist walk** (:func:`_to_ir`). ``ast.parse(source, mode="eval")`` gives a tree that is
   walked node by node; only Expression, Constant (numbers/bools), BinOp, UnaryOp, BoolOp,
   Compare, IfExp, Name (placeholders and constants) and Call (whitelisted names, positional
   arguments) are turned into a tiny tuple IR. Depth and node count are bounded. The walk also
   infers the *kind* of each sub-expression (length / angle / plain) to reject ``10 mm + 30 deg``
   or a length where an angle is expected.
3. **Closure compiler** (:meth:`Compiled._build`). The IR becomes a tree of small Python
   closures, one per node, with constant sub-trees folded. Unit factors depend on the graph's
   units, so closures are built once per unit system and kept on the :class:`Compiled` object.
   Every arithmetic result is checked to be finite; ``**`` checks its exponent and the size of
   its result *before* computing it; division by zero is a user error, not a crash.

:func:`compile_expression` caches parsed expressions (``functools.lru_cache``), so the engine
can call :func:`evaluate` thousands of times for a few microseconds each.

Conventions: plain numbers are in the graph's units (lengths) or degrees (angles); trig
functions take and return degrees; ``rad``/``deg`` convert to degrees; length units convert to
the graph's units (``mm``, ``cm``, ``m``, ``in``; ``ft`` and ``um`` also work).
"""

from __future__ import annotations

import ast
import difflib
import functools
import math
import numbers
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from brepflow_lab.core.errors import ErrorCode, NodeError
from brepflow_lab.core.units import ANGLE_UNITS, MM_PER_UNIT

__all__ = [
    "ANGLE_UNITS",
    "FUNCTIONS",
    "MAX_LENGTH",
    "UNIT_FACTORS_MM",
    "Compiled",
    "ExpressionError",
    "compile_expression",
    "convert_length",
    "evaluate",
    "is_expression",
    "references",
]

Value = float | bool
Dimension = Literal["length", "angle", "none"]
Kind = Literal["length", "angle"] | None

#: millimetres per unit, for every length unit an expression may name (brepflow_lab.core.units)
UNIT_FACTORS_MM: dict[str, float] = MM_PER_UNIT

MAX_LENGTH = 500  # characters of expression text
MAX_DEPTH = 64  # nesting of the syntax tree
MAX_NODES = 256  # nodes in the syntax tree
MAX_PARENS = 32  # nesting of parentheses
MAX_EXPONENT = 100.0  # |exponent| of ** and pow()
MAX_POWER = 1e12  # |result| of ** and pow()


class ExpressionError(ValueError):
    """An expression could not be read or evaluated; the message is meant for a CAD user.

    ``reason`` is a short stable tag (``"syntax"``, ``"unknown_parameter"``, ``"unit"``,
    ``"dimension"``, ``"division_by_zero"``, ``"too_large"``, ...); ``hint`` is optional advice.
    Callers turn it into ``NodeError(PARAM_INVALID, ...)``, e.g. with :meth:`to_node_error`.
    """

    code = ErrorCode.PARAM_INVALID

    def __init__(self, message: str, reason: str = "invalid", *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.hint = hint

    def __reduce__(self) -> tuple[Any, ...]:  # keep reason and hint across processes (Dask workers)
        return (type(self), (self.message, self.reason), {"hint": self.hint})

    def to_node_error(self, node_id: str | None = None, param: str | None = None) -> NodeError:
        return NodeError(ErrorCode.PARAM_INVALID, self.message, node_id=node_id, param=param, hint=self.hint)


# --------------------------------------------------------------------------------------------
# helpers


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _too_large(what: str = "the result") -> ExpressionError:
    return ExpressionError(f"{what} is too large (not a finite number)", "too_large")


def _division_by_zero() -> ExpressionError:
    return ExpressionError("division by zero", "division_by_zero")


# --------------------------------------------------------------------------------------------
# functions (all take and return plain floats; angles in degrees)

_SIN_EXACT = {0.0: 0.0, 30.0: 0.5, 90.0: 1.0, 150.0: 0.5, 180.0: 0.0, 210.0: -0.5, 270.0: -1.0, 330.0: -0.5}
_COS_EXACT = {0.0: 1.0, 60.0: 0.5, 90.0: 0.0, 120.0: -0.5, 180.0: -1.0, 240.0: -0.5, 270.0: 0.0, 300.0: 0.5}
_TAN_EXACT = {0.0: 0.0, 45.0: 1.0, 135.0: -1.0, 180.0: 0.0, 225.0: 1.0, 315.0: -1.0}


def _snap_degrees(value: float) -> float:
    """Inverse trig of exact ratios gives whole degrees (asin(0.5) == 30, not 30.000000000000004)."""
    nearest = round(value)
    return float(nearest) if abs(value - nearest) < 1e-9 else value


def _sin(x: float) -> float:
    r = x % 360.0
    exact = _SIN_EXACT.get(r)
    return exact if exact is not None else math.sin(math.radians(r))


def _cos(x: float) -> float:
    r = x % 360.0
    exact = _COS_EXACT.get(r)
    return exact if exact is not None else math.cos(math.radians(r))


def _tan(x: float) -> float:
    r = x % 180.0
    if r == 90.0:
        raise ExpressionError(f"tan({_fmt(x)}°) is undefined", "domain")
    exact = _TAN_EXACT.get(x % 360.0)
    return exact if exact is not None else math.tan(math.radians(r))


def _ratio(name: str, x: float) -> float:
    if not -1.0 <= x <= 1.0:
        raise ExpressionError(f"{name}() needs a value between -1 and 1, got {_fmt(x)}", "domain")
    return x


def _asin(x: float) -> float:
    return _snap_degrees(math.degrees(math.asin(_ratio("asin", x))))


def _acos(x: float) -> float:
    return _snap_degrees(math.degrees(math.acos(_ratio("acos", x))))


def _atan(x: float) -> float:
    return _snap_degrees(math.degrees(math.atan(x)))


def _atan2(y: float, x: float) -> float:
    return _snap_degrees(math.degrees(math.atan2(y, x)))


def _sqrt(x: float) -> float:
    if x < 0:
        raise ExpressionError(f"sqrt() of a negative number ({_fmt(x)})", "domain")
    return math.sqrt(x)


def _power(base: float, exponent: float) -> float:
    """``base ** exponent`` with the bounds checked *before* computing anything."""
    if not -MAX_EXPONENT <= exponent <= MAX_EXPONENT:
        raise ExpressionError(
            f"exponent {_fmt(exponent)} is out of range (allowed: -{MAX_EXPONENT:g} to {MAX_EXPONENT:g})", "too_large"
        )
    if base == 0:
        if exponent < 0:
            raise _division_by_zero()
        return 1.0 if exponent == 0 else 0.0
    if base < 0 and exponent != math.floor(exponent):
        raise ExpressionError(
            f"cannot raise a negative number ({_fmt(base)}) to a fractional power ({_fmt(exponent)})", "domain"
        )
    if exponent * math.log10(abs(base)) > 12.001:  # |result| would exceed MAX_POWER: refuse up front
        raise ExpressionError(f"{_fmt(base)} ** {_fmt(exponent)} is too large (limit {MAX_POWER:g})", "too_large")
    result = float(base) ** float(exponent)
    if not -MAX_POWER <= result <= MAX_POWER:
        raise ExpressionError(f"{_fmt(base)} ** {_fmt(exponent)} is too large (limit {MAX_POWER:g})", "too_large")
    return result


def _round(x: float, digits: float = 0.0) -> float:
    """Round half away from zero (round(2.5) == 3, as on a calculator, not banker's rounding)."""
    if digits != math.floor(digits) or not -15 <= digits <= 15:
        raise ExpressionError(f"round(): digits must be a whole number from -15 to 15, got {_fmt(digits)}", "domain")
    scale = 10.0 ** int(digits)
    rounded = math.floor(abs(x) * scale + 0.5)
    return math.copysign(rounded / scale, x) if rounded else 0.0


def _clamp(x: float, low: float, high: float) -> float:
    if low > high:
        raise ExpressionError(f"clamp(): lower bound {_fmt(low)} is above upper bound {_fmt(high)}", "domain")
    return low if x < low else high if x > high else x


def _min(*args: float) -> float:
    return min(args)


def _max(*args: float) -> float:
    return max(args)


_Impl = Callable[..., float]

#: name -> (implementation, minimum arguments, maximum arguments, signature for messages)
FUNCTIONS: dict[str, tuple[_Impl, int, int, str]] = {
    "abs": (abs, 1, 1, "abs(x)"),
    "sqrt": (_sqrt, 1, 1, "sqrt(x)"),
    "pow": (_power, 2, 2, "pow(x, y)"),
    "min": (_min, 1, 64, "min(a, b, ...)"),
    "max": (_max, 1, 64, "max(a, b, ...)"),
    "clamp": (_clamp, 3, 3, "clamp(x, lo, hi)"),
    "round": (_round, 1, 2, "round(x) or round(x, digits)"),
    "floor": (lambda x: float(math.floor(x)), 1, 1, "floor(x)"),
    "ceil": (lambda x: float(math.ceil(x)), 1, 1, "ceil(x)"),
    "hypot": (math.hypot, 1, 64, "hypot(a, b, ...)"),
    "sin": (_sin, 1, 1, "sin(degrees)"),
    "cos": (_cos, 1, 1, "cos(degrees)"),
    "tan": (_tan, 1, 1, "tan(degrees)"),
    "asin": (_asin, 1, 1, "asin(x)"),
    "acos": (_acos, 1, 1, "acos(x)"),
    "atan": (_atan, 1, 1, "atan(x)"),
    "atan2": (_atan2, 2, 2, "atan2(y, x)"),
}

_CONSTANTS: dict[str, Value] = {
    "pi": math.pi,
    "e": math.e,
    "true": True,
    "false": False,
    "True": True,
    "False": False,
}
_KEYWORDS = frozenset({"and", "or", "not", "if", "else"})
_UNIT_KIND: dict[str, Kind] = {**dict.fromkeys(UNIT_FACTORS_MM, "length"), **dict.fromkeys(ANGLE_UNITS, "angle")}
_UNITS_TEXT = ", ".join([*UNIT_FACTORS_MM, *ANGLE_UNITS])
_PARAM_PREFIX = "_p"
_UNIT_PREFIX = "_u_"

# --------------------------------------------------------------------------------------------
# stage 1: lexer and rewrite

_TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<param>@[A-Za-z_][A-Za-z0-9_]*)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<degree>°)
  | (?P<op>\*\*|//|<=|>=|==|!=|[-+*/%<>(),])
    """,
    re.VERBOSE | re.ASCII,
)


class _Source:
    """The normalised Python source of an expression and what the rewrite learnt."""

    __slots__ = ("params", "pieces", "positions", "text")

    def __init__(self, text: str, pieces: list[str], positions: list[int], params: list[str]) -> None:
        self.text = text
        self.pieces = pieces  # normalised source, one piece per original token (units rewritten)
        self.positions = positions  # position in ``text`` of each piece
        self.params = params  # parameter names, index i <-> placeholder _p{i}


def _syntax(text: str, detail: str, hint: str | None = None) -> ExpressionError:
    return ExpressionError(f"cannot read expression {_quote(text)}: {detail}", "syntax", hint=hint)


def _lex(text: str) -> _Source:
    pieces: list[str] = []
    positions: list[int] = []
    params: list[str] = []
    open_parens: list[int] = []  # index in ``pieces`` where each open group starts (incl. a function name)
    last_closed = -1  # start index of the group closed by the previous ``)``
    previous = ""  # kind of the previous token: number, param, name, unit, function, (, ), op
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            char = text[pos]
            hint = None
            if char in "\"'":
                hint = "text strings are not allowed in expressions"
            elif char == ".":
                hint = "attribute access is not allowed; decimal numbers are written 0.5"
            elif char in "[]{}":
                hint = "only round parentheses are allowed"
            elif char == "=":
                hint = "use == to compare"
            elif char == "^":
                hint = "use ** for powers"
            raise _syntax(text, f"unexpected character {char!r} at position {pos + 1}", hint)
        start, pos = pos, match.end()
        group = match.lastgroup
        token = match.group()
        if group == "space":
            continue
        if group == "degree":
            group, token = "name", "deg"
        if group == "number":
            number = float(token)
            if not math.isfinite(number):
                raise ExpressionError(f"the number {_quote(token, 24)} is too large", "too_large")
            piece, kind = repr(number), "number"
        elif group == "param":
            name = token[1:]
            if name not in params:
                params.append(name)
            piece, kind = f"{_PARAM_PREFIX}{params.index(name)}", "param"
        elif group == "name":
            if token in _UNIT_KIND:
                if previous == "number":
                    pieces[-1] = f"{_UNIT_PREFIX}{token}({pieces[-1]})"
                elif previous == ")":
                    pieces.insert(last_closed, f"{_UNIT_PREFIX}{token}(")
                    positions.insert(last_closed, start)
                    pieces[-1] += ")"
                elif previous == "unit":
                    raise _syntax(text, f"two units in a row before {token!r} at position {start + 1}")
                else:
                    raise _syntax(
                        text,
                        f"unit {token!r} at position {start + 1} must follow a number or a parenthesised expression",
                        "write e.g. 10 mm or (@L + 2) mm",
                    )
                previous = "unit"
                continue
            if previous in ("number", ")") and token not in _KEYWORDS:
                raise _syntax(
                    text,
                    f"{token!r} at position {start + 1} is not a unit (units: {_UNITS_TEXT})",
                    "use * to multiply",
                )
            if token in FUNCTIONS:
                kind = "function"
            elif token in _CONSTANTS or token in _KEYWORDS:
                kind = "name"
            elif text[pos:].lstrip().startswith("("):
                raise ExpressionError(
                    f"unknown function {token!r} in {_quote(text)}",
                    "unknown_name",
                    hint=f"functions: {', '.join(FUNCTIONS)}",
                )
            else:
                raise ExpressionError(
                    f"unknown name {token!r} in {_quote(text)}",
                    "unknown_name",
                    hint=f"parameters are written with @, e.g. @{token}",
                )
            piece = token
        else:  # operator
            kind = "op"
            if token == "(":
                open_parens.append(len(pieces) - 1 if previous == "function" else len(pieces))
                if len(open_parens) > MAX_PARENS:
                    raise ExpressionError(f"expression {_quote(text)} is nested too deeply", "too_complex")
                kind = "("
            elif token == ")":
                if not open_parens:
                    raise _syntax(text, f"unmatched ')' at position {start + 1}")
                last_closed = open_parens.pop()
                kind = ")"
            piece = token
        pieces.append(piece)
        positions.append(start)
        previous = kind
    if not pieces:
        raise _syntax(text, "it is empty")
    if open_parens:
        raise _syntax(text, "missing ')'")
    return _Source(text, pieces, positions, params)


# --------------------------------------------------------------------------------------------
# stage 2: whitelist walk of the Python AST into a small IR
#
# IR nodes are tuples: ("const", value) | ("param", index) | ("unit", name, x)
#   | ("bin", op, a, b) | ("neg", x) | ("pos", x) | ("not", x) | ("and"|"or", [xs])
#   | ("cmp", [ops], [xs]) | ("if", test, a, b) | ("call", name, [args])

_IR = tuple[Any, ...]
_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
_CMPOPS: dict[type[ast.cmpop], str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
_KIND_WORD = {"length": "a length", "angle": "an angle"}


class _Walker:
    def __init__(self, source: _Source) -> None:
        self.source = source
        self.count = 0

    def fail(self, detail: str, reason: str = "syntax") -> ExpressionError:
        return ExpressionError(f"cannot use expression {_quote(self.source.text)}: {detail}", reason)

    def combine(self, kinds: Sequence[Kind], what: str) -> Kind:
        found = {k for k in kinds if k is not None}
        if len(found) > 1:
            raise self.fail(f"cannot mix a length and an angle in {what}", "dimension")
        return found.pop() if found else None

    def walk(self, node: ast.AST, depth: int = 0) -> tuple[_IR, Kind]:
        self.count += 1
        if depth > MAX_DEPTH or self.count > MAX_NODES:
            raise ExpressionError(f"expression {_quote(self.source.text)} is too complex", "too_complex")
        d = depth + 1
        if isinstance(node, ast.Constant):
            if type(node.value) not in (float, bool):  # the lexer only emits floats; belt and braces
                raise self.fail("only numbers and true/false are allowed")
            return ("const", node.value), None
        if isinstance(node, ast.Name):
            name = node.id
            if name.startswith(_PARAM_PREFIX) and name[len(_PARAM_PREFIX) :].isdigit():
                index = int(name[len(_PARAM_PREFIX) :])
                if index < len(self.source.params):
                    return ("param", index), None
            if name in _CONSTANTS:
                return ("const", _CONSTANTS[name]), None
            if name in FUNCTIONS:
                raise self.fail(f"{name} is a function; call it like {FUNCTIONS[name][3]}")
            raise self.fail(f"unknown name {name!r}", "unknown_name")
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise self.fail("operator not allowed")
            left, lk = self.walk(node.left, d)
            right, rk = self.walk(node.right, d)
            if op in "+-%":
                kind = self.combine((lk, rk), f"'{op}'")
            elif op == "*":
                kind = lk if rk is None else rk if lk is None else None
            elif op in ("/", "//"):
                kind = lk if rk is None else None
            else:
                kind = None
            return ("bin", op, left, right), kind
        if isinstance(node, ast.UnaryOp):
            operand, kind = self.walk(node.operand, d)
            if isinstance(node.op, ast.USub):
                return ("neg", operand), kind
            if isinstance(node.op, ast.UAdd):
                return ("pos", operand), kind
            if isinstance(node.op, ast.Not):
                return ("not", operand), None
            raise self.fail("operator not allowed")
        if isinstance(node, ast.BoolOp):
            tag = "and" if isinstance(node.op, ast.And) else "or" if isinstance(node.op, ast.Or) else None
            if tag is None:
                raise self.fail("operator not allowed")
            return (tag, [self.walk(v, d)[0] for v in node.values]), None
        if isinstance(node, ast.Compare):
            ops = [_CMPOPS.get(type(o)) for o in node.ops]
            if None in ops:
                raise self.fail("comparison not allowed")
            walked = [self.walk(v, d) for v in (node.left, *node.comparators)]
            self.combine([k for _, k in walked], "a comparison")
            return ("cmp", ops, [ir for ir, _ in walked]), None
        if isinstance(node, ast.IfExp):
            test, _ = self.walk(node.test, d)
            body, bk = self.walk(node.body, d)
            orelse, ok = self.walk(node.orelse, d)
            return ("if", test, body, orelse), self.combine((bk, ok), "the two branches of 'if ... else'")
        if isinstance(node, ast.Call):
            return self.call(node, d)
        if isinstance(node, ast.Tuple):
            raise self.fail("commas are only allowed between the arguments of a function")
        raise self.fail(f"{type(node).__name__} is not allowed")

    def call(self, node: ast.Call, depth: int) -> tuple[_IR, Kind]:
        if not isinstance(node.func, ast.Name):
            raise self.fail("a value is followed by '(' (use * to multiply)")
        if node.keywords:
            raise self.fail("only calls like sqrt(x) with plain arguments are allowed")
        name = node.func.id
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail("only calls like sqrt(x) with plain arguments are allowed")
        args = [self.walk(a, depth) for a in node.args]
        kinds = [k for _, k in args]
        irs = [ir for ir, _ in args]
        if name.startswith(_UNIT_PREFIX) and name[len(_UNIT_PREFIX) :] in _UNIT_KIND and len(irs) == 1:
            unit = name[len(_UNIT_PREFIX) :]
            if kinds[0] is not None:
                raise self.fail(f"unit {unit!r} is applied to something that already has a unit", "unit")
            return ("unit", unit, irs[0]), _UNIT_KIND[unit]
        if name not in FUNCTIONS:
            raise self.fail(f"unknown function {name!r}", "unknown_name")
        _, low, high, signature = FUNCTIONS[name]
        if not low <= len(irs) <= high:
            raise self.fail(f"{name}() takes {signature}, got {len(irs)} argument(s)", "arguments")
        kind: Kind = None
        if name in ("sin", "cos", "tan"):
            if kinds[0] == "length":
                raise self.fail(f"{name}() takes an angle (degrees), not a length", "dimension")
        elif name in ("asin", "acos", "atan"):
            if kinds[0] is not None:
                raise self.fail(f"{name}() takes a plain ratio, not {_KIND_WORD[kinds[0]]}", "dimension")
            kind = "angle"
        elif name == "atan2":
            self.combine(kinds, "atan2()")
            kind = "angle"
        elif name in ("abs", "round", "floor", "ceil"):
            kind = kinds[0]
        elif name in ("min", "max", "clamp", "hypot"):
            kind = self.combine(kinds, f"{name}()")
        return ("call", name, irs), kind


def _explain(exc: SyntaxError, source: _Source) -> tuple[str, str | None]:
    """Words for a SyntaxError of the normalised source, with the position in the user's text."""
    if "else" in (exc.msg or ""):
        return "'if' needs an 'else' part", "write: value_if_true if condition else value_if_false"
    if not exc.offset:  # the parser reached the end of the text
        return "it ends too early (an operator or value is missing at the end)", None
    offset, index = 0, 0
    for index, piece in enumerate(source.pieces):  # noqa: B007 - index is used after the loop
        if offset + len(piece) + 1 >= exc.offset:
            break
        offset += len(piece) + 1
    return (
        f"unexpected {source.text[source.positions[index] :].split()[0]!r} at position {source.positions[index] + 1}",
        ("check for a missing or doubled operator"),
    )


def _parse(text: str) -> tuple[_Source, _IR, Kind]:
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, got {type(text).__name__}", "type")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is too long ({len(text)} characters, limit {MAX_LENGTH})", "too_long")
    source = _lex(text)
    code = " ".join(source.pieces)
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as exc:
        raise _syntax(text, *_explain(exc, source)) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"expression {_quote(text)} is too complex", "too_complex") from None
    walker = _Walker(source)
    ir, kind = walker.walk(tree.body)
    return source, ir, kind


# --------------------------------------------------------------------------------------------
# stage 3: closures

_Env = Sequence[Value]
_Fn = Callable[[_Env], Any]


class _Const:
    __slots__ = ("value",)

    def __init__(self, value: Value) -> None:
        self.value = value


_Built = _Fn | _Const


def _check(value: Any) -> Any:
    if value - value != 0:  # inf - inf and nan - nan are nan
        raise _too_large()
    return value


def _binary(op: str, a: _Fn, b: _Fn) -> _Fn:
    if op == "+":

        def add(env: _Env) -> Any:
            v = a(env) + b(env)
            if v - v != 0:
                raise _too_large()
            return v

        return add
    if op == "-":

        def sub(env: _Env) -> Any:
            v = a(env) - b(env)
            if v - v != 0:
                raise _too_large()
            return v

        return sub
    if op == "*":

        def mul(env: _Env) -> Any:
            v = a(env) * b(env)
            if v - v != 0:
                raise _too_large()
            return v

        return mul
    if op == "/":

        def div(env: _Env) -> Any:
            d = b(env)
            if d == 0:
                raise _division_by_zero()
            v = a(env) / d
            if v - v != 0:
                raise _too_large()
            return v

        return div
    if op == "//":

        def floordiv(env: _Env) -> Any:
            d = b(env)
            if d == 0:
                raise _division_by_zero()
            return _check(float(a(env) // d))

        return floordiv
    if op == "%":

        def mod(env: _Env) -> Any:
            d = b(env)
            if d == 0:
                raise _division_by_zero()
            return _check(a(env) % d)

        return mod
    assert op == "**"
    return lambda env: _power(a(env), b(env))


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
}


def _compare(ops: list[str], fns: list[_Fn]) -> _Fn:
    if len(ops) == 1:
        compare, a, b = _COMPARE[ops[0]], fns[0], fns[1]
        return lambda env: compare(a(env), b(env))
    pairs = [(_COMPARE[op], fn) for op, fn in zip(ops, fns[1:])]
    first = fns[0]

    def chain(env: _Env) -> bool:
        left = first(env)
        for compare, fn in pairs:
            right = fn(env)
            if not compare(left, right):
                return False
            left = right
        return True

    return chain


def _call(name: str, fns: list[_Fn]) -> _Fn:
    impl = FUNCTIONS[name][0]

    def checked(*args: Any) -> float:
        try:
            return _check(impl(*args))
        except ExpressionError:
            raise
        except ZeroDivisionError:
            raise _division_by_zero() from None
        except (OverflowError, ValueError, TypeError):
            raise ExpressionError(
                f"{name}() cannot be computed for {', '.join(_fmt(a) for a in args)}", "domain"
            ) from None

    if len(fns) == 1:
        (a,) = fns
        return lambda env: checked(a(env))
    if len(fns) == 2:
        a, b = fns
        return lambda env: checked(a(env), b(env))
    return lambda env: checked(*[fn(env) for fn in fns])


def _as_fn(built: _Built) -> _Fn:
    if isinstance(built, _Const):
        value = built.value
        return lambda env: value
    return built


def _build(ir: _IR, factors: Mapping[str, float]) -> _Built:
    """Turn IR into closures; sub-trees without parameters are folded into constants."""
    tag = ir[0]
    if tag == "const":
        return _Const(ir[1])
    if tag == "param":
        index = ir[1]
        return lambda env: env[index]
    children: list[_Built]
    if tag == "unit":
        children = [_build(ir[2], factors)]
        factor = factors[ir[1]]
        inner = _as_fn(children[0])
        fn: _Fn = lambda env: _check(inner(env) * factor)  # noqa: E731
    elif tag == "bin":
        children = [_build(ir[2], factors), _build(ir[3], factors)]
        fn = _binary(ir[1], _as_fn(children[0]), _as_fn(children[1]))
    elif tag in ("neg", "pos", "not"):
        children = [_build(ir[1], factors)]
        x = _as_fn(children[0])
        if tag == "neg":
            fn = lambda env: -x(env)  # noqa: E731
        elif tag == "pos":
            fn = lambda env: +x(env)  # noqa: E731
        else:
            fn = lambda env: not x(env)  # noqa: E731
    elif tag in ("and", "or"):
        children = [_build(sub, factors) for sub in ir[1]]
        parts = [_as_fn(c) for c in children]
        if tag == "and":
            fn = lambda env: all(p(env) for p in parts)  # noqa: E731
        else:
            fn = lambda env: any(p(env) for p in parts)  # noqa: E731
    elif tag == "cmp":
        children = [_build(sub, factors) for sub in ir[2]]
        fn = _compare(ir[1], [_as_fn(c) for c in children])
    elif tag == "if":
        children = [_build(sub, factors) for sub in ir[1:]]
        test, body, orelse = (_as_fn(c) for c in children)
        fn = lambda env: body(env) if test(env) else orelse(env)  # noqa: E731
    elif tag == "call":
        children = [_build(sub, factors) for sub in ir[2]]
        fn = _call(ir[1], [_as_fn(c) for c in children])
    else:  # pragma: no cover - the walker only produces the tags above
        raise AssertionError(tag)
    if all(isinstance(c, _Const) for c in children):
        try:
            return _Const(fn(()))
        except ExpressionError:
            return fn  # keep the error for evaluation time (compiling never fails on values)
    return fn


# --------------------------------------------------------------------------------------------
# public API


def _unit_factors(units: str) -> dict[str, float]:
    if units not in UNIT_FACTORS_MM:
        raise ExpressionError(f"unknown graph units {units!r} (known: {', '.join(UNIT_FACTORS_MM)})", "unit")
    graph = UNIT_FACTORS_MM[units]
    factors = {name: mm / graph for name, mm in UNIT_FACTORS_MM.items()}
    factors.update(ANGLE_UNITS)
    return factors


class Compiled:
    """A parsed expression: evaluate it many times with :meth:`evaluate` (a few µs each)."""

    __slots__ = ("_fns", "_ir", "kind", "names", "references", "text")

    def __init__(self, text: str) -> None:
        source, ir, kind = _parse(text)
        self.text = text
        self.names: tuple[str, ...] = tuple(source.params)  # parameter names in placeholder order
        self.references: frozenset[str] = frozenset(source.params)
        self.kind: Kind = kind  # "length", "angle" or None (plain number / unknown)
        self._ir = ir
        self._fns: dict[str, _Fn] = {}

    def __repr__(self) -> str:
        return f"Compiled({self.text!r})"

    def _function(self, units: str) -> _Fn:
        fn = self._fns.get(units)
        if fn is None:
            fn = _as_fn(_build(self._ir, _unit_factors(units)))
            self._fns[units] = fn
        return fn

    def _values(self, params: Mapping[str, Any]) -> list[Value]:
        values: list[Value] = []
        for name in self.names:
            try:
                value = params[name]
            except KeyError:
                raise _unknown_parameter(name, params) from None
            if type(value) is not float or value - value != 0:
                value = _parameter_value(name, value)
            values.append(value)
        return values

    def evaluate(self, params: Mapping[str, Any], *, units: str = "mm", dimension: Dimension = "none") -> float | bool:
        """Evaluate with parameter values (numbers in graph units, angles in degrees, or bools).

        Raises :class:`ExpressionError` for unknown parameters, a unit of the wrong kind for
        ``dimension``, division by zero, out-of-range or non-finite results, ...
        """
        fn = self._fns.get(units) or self._function(units)
        if dimension != "none":
            _check_dimension(self, dimension)
        result = fn(self._values(params) if self.names else ())
        if result is True or result is False:
            if dimension != "none":
                raise ExpressionError(
                    f"expression {_quote(self.text)} gives {_fmt(result)}, but {_KIND_WORD[dimension]} is expected",
                    "type",
                )
            return result
        return float(result)


def _check_dimension(compiled: Compiled, dimension: str) -> None:
    if dimension not in _KIND_WORD:
        raise ValueError(f"dimension must be 'length', 'angle' or 'none', not {dimension!r}")
    if compiled.kind is not None and compiled.kind != dimension:
        raise ExpressionError(
            f"expression {_quote(compiled.text)} gives {_KIND_WORD[compiled.kind]}, "
            f"but {_KIND_WORD[dimension]} is expected",
            "dimension",
            hint="length units: mm, cm, m, in, ft, um; angle units: deg, rad",
        )


def _unknown_parameter(name: str, params: Mapping[str, Any]) -> ExpressionError:
    known = sorted(str(k) for k in params)
    listed = ", ".join(known[:12]) + (", …" if len(known) > 12 else "")
    close = difflib.get_close_matches(name, known, n=1)
    return ExpressionError(
        f"unknown parameter '@{name}' (known: {listed or 'none'})",
        "unknown_parameter",
        hint=f"did you mean '@{close[0]}'?" if close else None,
    )


def _parameter_value(name: str, value: Any) -> Value:
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number):
            return number
        raise ExpressionError(f"parameter '@{name}' is not a finite number ({number})", "bad_parameter")
    shown = _quote(value, 30) if isinstance(value, str) else type(value).__name__
    raise ExpressionError(f"parameter '@{name}' has no numeric value (got {shown})", "bad_parameter")


_compile_cached = functools.lru_cache(maxsize=4096)(Compiled)


def compile_expression(text: str) -> Compiled:
    """Parse ``text`` once (cached, LRU of 4096); raises :class:`ExpressionError` if it cannot be read.

    Errors are not cached; a :class:`Compiled` is shared by every caller with the same text.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, got {type(text).__name__}", "type")
    return _compile_cached(text)


def evaluate(text: str, params: Mapping[str, Any], *, units: str = "mm", dimension: Dimension = "none") -> float | bool:
    """Evaluate an expression string: ``evaluate("@L - 2*@wall", {"L": 50, "wall": 2}) == 46.0``.

    Plain numbers are in graph ``units``; length units convert to them; angles are degrees.
    A number or bool (not a string) is returned as is (as a float), so callers may pass any
    param value through.
    """
    if not isinstance(text, str):
        if isinstance(text, bool):
            return text
        if isinstance(text, numbers.Real) and math.isfinite(float(text)):
            return float(text)
        raise ExpressionError(f"expected a number or an expression, got {type(text).__name__}", "type")
    return compile_expression(text).evaluate(params, units=units, dimension=dimension)


def references(text: str) -> set[str]:
    """Names of the ``@params`` an expression uses; raises :class:`ExpressionError` if unreadable."""
    return set(compile_expression(text).references)


_PLAIN_NUMBER_RE = re.compile(r"\s*(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?\s*", re.ASCII)
_REFERENCE_RE = re.compile(r"@[A-Za-z_]", re.ASCII)


def is_expression(value: object) -> bool:
    """Whether a param value is an expression to evaluate (rather than a literal).

    True for every string that mentions an ``@param`` (even a plain ``"@L"``, and even if it is
    malformed, so that validation reports the problem) and for every other string that reads
    as an expression with an operator, unit, function call or constant (``"10 mm"``, ``"-2"``,
    ``"sqrt(2)"``, ``"pi"``). False for non-strings, plain number strings (``"5"``) and
    strings that are not expressions at all (``">Z"`` selectors, file names).
    """
    if not isinstance(value, str):
        return False
    if _REFERENCE_RE.search(value):
        return True
    if _PLAIN_NUMBER_RE.fullmatch(value):
        return False
    try:
        compile_expression(value)
    except ExpressionError:
        return False
    return True


def convert_length(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a length between units: ``convert_length(1, "in", "mm") == 25.4``."""
    for unit in (from_unit, to_unit):
        if unit not in UNIT_FACTORS_MM:
            raise ExpressionError(f"unknown length unit {unit!r} (known: {', '.join(UNIT_FACTORS_MM)})", "unit")
    if from_unit == to_unit:
        return float(value)
    return float(value) * UNIT_FACTORS_MM[from_unit] / UNIT_FACTORS_MM[to_unit]
