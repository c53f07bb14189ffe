"""Tests for the safe expression evaluator (brepflow_lab.graph.expressions)."""

from __future__ import annotations

import math
import pickle
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brepflow_lab.errors import ErrorCode, NodeError
from brepflow_lab.graph.expressions import (
    MAX_LENGTH,
    UNIT_FACTORS_MM,
    Compiled,
    ExpressionError,
    compile_expression,
    convert_length,
    evaluate,
    is_expression,
    references,
)

PARAMS: dict[str, Any] = {"L": 50.0, "W": 20.0, "wall": 2.0, "n": 3, "flag": True, "zero": 0.0}


def ev(text: str, **kwargs: Any) -> float | bool:
    return evaluate(text, PARAMS, **kwargs)


# ---------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2*3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("2**3", 8.0),
        ("2 ** -1", 0.5),
        ("-2**2", -4.0),
        ("2**3**2", 512.0),
        ("7 % 3", 1.0),
        ("-7 % 3", 2.0),
        ("7 // 2", 3.0),
        ("7 / 2", 3.5),
        ("+3", 3.0),
        ("2*-3", -6.0),
        ("--3", 3.0),
        ("1.5e3", 1500.0),
        ("2E-3", 0.002),
        (".5", 0.5),
        ("1.", 1.0),
        ("007", 7.0),
        ("  1\t+\n1 ", 2.0),
        ("10**12", 1e12),
        ("0.5**100", 0.5**100),
        ("2**-100", 2.0**-100),
        ("0**0", 1.0),
        ("(-2)**3", -8.0),
    ],
)
def test_arithmetic(text: str, expected: float) -> None:
    result = ev(text)
    assert type(result) is float
    assert result == pytest.approx(expected, rel=1e-12)


def test_results_are_floats_or_bools() -> None:
    assert type(ev("1")) is float
    assert type(ev("@n")) is float
    assert ev("true") is True
    assert ev("1 < 2") is True
    assert ev("not @flag") is False


# ---------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("text", "units", "expected"),
    [
        ("10 mm + 0.5 in", "mm", 22.7),
        ("10 mm + 0.5 in", "cm", 2.27),
        ("10 mm + 0.5 in", "in", 10 / 25.4 + 0.5),
        ("10 mm + 0.5 in", "m", 0.0227),
        ("25.4mm", "in", 1.0),
        ("1 m", "mm", 1000.0),
        ("1 ft", "mm", 304.8),
        ("1000 um", "mm", 1.0),
        ("1e1mm", "mm", 10.0),
        ("2 cm", "cm", 2.0),
        ("(1 + 1) in", "mm", 50.8),
        ("2 * 3 mm", "cm", 0.6),  # the unit belongs to the number it follows
        ("sqrt(4) cm", "mm", 20.0),
        ("-10 mm", "cm", -1.0),
        ("10", "in", 10.0),  # plain numbers are graph units
        ("@L + 1 cm", "mm", 60.0),
        ("(@L) cm", "mm", 500.0),
        ("30 deg", "mm", 30.0),
        ("30°", "mm", 30.0),
        ("(pi) rad", "mm", 180.0),
        ("0.5 rad", "cm", math.degrees(0.5)),
    ],
)
def test_units(text: str, units: str, expected: float) -> None:
    assert ev(text, units=units) == pytest.approx(expected, rel=1e-12)


def test_unit_factors_and_convert_length() -> None:
    assert UNIT_FACTORS_MM["in"] == 25.4
    assert convert_length(1, "in", "mm") == pytest.approx(25.4)
    assert convert_length(22.7, "mm", "cm") == pytest.approx(2.27)
    assert convert_length(2, "m", "m") == 2.0
    assert convert_length(1, "ft", "in") == pytest.approx(12.0)
    with pytest.raises(ExpressionError, match="unknown length unit 'furlong'"):
        convert_length(1, "furlong", "mm")


def test_unknown_graph_units() -> None:
    with pytest.raises(ExpressionError, match="unknown graph units 'yd'"):
        ev("1 + 1", units="yd")


def test_dimensions() -> None:
    assert ev("10 mm", dimension="length") == 10.0
    assert ev("@L - 2*@wall", dimension="length") == 46.0
    assert ev("90 deg", dimension="angle") == 90.0
    assert ev("(pi/2) rad", dimension="angle") == pytest.approx(90.0)
    assert ev("asin(0.5)", dimension="angle") == 30.0
    assert ev("10 mm * sin(30 deg)", dimension="length") == pytest.approx(5.0)
    assert ev("atan2(10 mm, 10 mm)", dimension="angle") == 45.0
    assert ev("20 mm / 10 mm", dimension="angle") == 2.0  # a ratio has no unit
    for text in ("10 mm", "90 + 10 mm", "max(1 mm, 2)"):
        with pytest.raises(ExpressionError, match="gives a length, but an angle is expected") as info:
            ev(text, dimension="angle")
        assert info.value.reason == "dimension"
    for text in ("30 deg", "asin(0.5)", "1 rad + 2"):
        with pytest.raises(ExpressionError, match="gives an angle, but a length is expected"):
            ev(text, dimension="length")
    with pytest.raises(ExpressionError, match="cannot mix a length and an angle"):
        ev("10 mm + 30 deg")
    with pytest.raises(ExpressionError, match="sin\\(\\) takes an angle"):
        ev("sin(10 mm)")
    with pytest.raises(ExpressionError, match="gives true, but a length is expected"):
        ev("@L > 3", dimension="length")
    with pytest.raises(ValueError, match="dimension must be"):
        ev("1", dimension="volume")


# ---------------------------------------------------------------------------- parameters


def test_parameters() -> None:
    assert ev("@L") == 50.0
    assert ev("@L - 2*@wall") == 46.0
    assert ev("@L*@L - @W") == 2480.0
    assert ev("@n + 1") == 4.0
    assert ev("@flag") is True
    assert evaluate("@my_param_2 * 2", {"my_param_2": 1.5}) == 3.0


def test_parameter_values_of_other_numeric_types() -> None:
    import numpy  # a dependency of brepflow-lab (through cadquery)

    assert evaluate("@a + @b", {"a": numpy.float64(1.5), "b": numpy.int64(2)}) == 3.5


def test_unknown_parameter_names_it_and_lists_known() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("@L - 2*@wal", {"L": 50, "W": 20, "wall": 2})
    assert str(info.value) == "unknown parameter '@wal' (known: L, W, wall)"
    assert info.value.reason == "unknown_parameter"
    assert info.value.hint == "did you mean '@wall'?"


@pytest.mark.parametrize("value", ["abc", None, float("inf"), float("nan"), [1]])
def test_bad_parameter_values(value: Any) -> None:
    with pytest.raises(ExpressionError, match="parameter '@x'") as info:
        evaluate("@x + 1", {"x": value})
    assert info.value.reason == "bad_parameter"


def test_references() -> None:
    assert references("@L - 2*@wall + @L") == {"L", "wall"}
    assert references("1 + 2 mm") == set()
    assert references("@a if @b > 0 else min(@c, 1)") == {"a", "b", "c"}
    with pytest.raises(ExpressionError):
        references("@L +")
    with pytest.raises(ExpressionError):
        references("@L; import os")


# ---------------------------------------------------------------------------- functions, trig


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("min(@L, 3)", 3.0),
        ("min(4)", 4.0),
        ("max(1, 5, 2)", 5.0),
        ("sqrt(16) + abs(-2)", 6.0),
        ("pow(2, 3)", 8.0),
        ("round(2.5)", 3.0),
        ("round(-2.5)", -3.0),
        ("round(2.4)", 2.0),
        ("round(3.14159, 2)", 3.14),
        ("round(1234, -2)", 1200.0),
        ("floor(2.7)", 2.0),
        ("floor(-2.5)", -3.0),
        ("ceil(2.1)", 3.0),
        ("clamp(15, 0, 10)", 10.0),
        ("clamp(-1, 0, 10)", 0.0),
        ("clamp(5, 0, 10)", 5.0),
        ("hypot(3, 4)", 5.0),
        ("pi", math.pi),
        ("e", math.e),
    ],
)
def test_functions(text: str, expected: float) -> None:
    assert ev(text) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sin(30)", 0.5),
        ("sin(90)", 1.0),
        ("sin(180)", 0.0),
        ("sin(-30)", -0.5),
        ("sin(390)", 0.5),
        ("cos(60)", 0.5),
        ("cos(90)", 0.0),
        ("cos(180)", -1.0),
        ("tan(45)", 1.0),
        ("tan(-45)", -1.0),
        ("tan(0)", 0.0),
        ("asin(0.5)", 30.0),
        ("asin(1)", 90.0),
        ("acos(0)", 90.0),
        ("acos(-1)", 180.0),
        ("atan(1)", 45.0),
        ("atan2(1, -1)", 135.0),
        ("atan2(0, 1)", 0.0),
        ("sin(30 deg)", 0.5),
    ],
)
def test_trig_in_degrees_is_exact_at_common_angles(text: str, expected: float) -> None:
    assert ev(text) == expected


def test_trig_in_degrees_elsewhere() -> None:
    assert ev("sin(45)") == pytest.approx(math.sqrt(0.5))
    assert ev("cos(10)") == pytest.approx(math.cos(math.radians(10)))
    assert ev("tan(10)") == pytest.approx(math.tan(math.radians(10)))
    assert ev("sin((pi/6) rad)") == pytest.approx(0.5)
    assert ev("acos(0.2)") == pytest.approx(math.degrees(math.acos(0.2)))


# ---------------------------------------------------------------------------- logic


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 < 2", True),
        ("2 <= 2", True),
        ("1 == 1.0", True),
        ("1 != 1", False),
        ("3 > 2", True),
        ("2 >= 3", False),
        ("1 < 2 < 3", True),
        ("1 < 3 < 2", False),
        ("0 < @L <= 50", True),
        ("true and false", False),
        ("true or false", True),
        ("not false", True),
        ("not (1 < 2)", False),
        ("@flag and @L > 10", True),
        ("@zero != 0 and 1/@zero > 0", False),  # short-circuit: no division by zero
        ("True or 1/0 > 0", True),
    ],
)
def test_comparisons_and_booleans(text: str, expected: bool) -> None:
    assert ev(text) is expected


def test_conditional() -> None:
    assert ev("1 if @flag else 2") == 1.0
    assert ev("1 if not @flag else 2") == 2.0
    assert ev("@L/2 if @W > 100 else @L/5 if @W > 10 else 0") == 10.0
    assert ev("1 if true else 1/0") == 1.0  # the branch not taken is not evaluated
    assert ev("(5 mm if @L > 10 else 1 cm) + 1", units="cm") == 1.5


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "reason", "message"),
    [
        ("1/0", "division_by_zero", "division by zero"),
        ("1 % 0", "division_by_zero", "division by zero"),
        ("1 // 0", "division_by_zero", "division by zero"),
        ("@L / (@W - @W)", "division_by_zero", "division by zero"),
        ("pow(0, -1)", "division_by_zero", "division by zero"),
        ("0 ** -1", "division_by_zero", "division by zero"),
        ("2**100", "too_large", "too large"),
        ("10**12.5", "too_large", "too large"),
        ("pow(2, 101)", "too_large", "exponent 101 is out of range"),
        ("1e308*10", "too_large", "too large"),
        ("1e308 + 1e308", "too_large", "too large"),
        ("-1e308 - 1e308", "too_large", "too large"),
        ("1e308 / 1e-308", "too_large", "too large"),
        ("1e999", "too_large", "too large"),
        ("9" * 400, "too_large", "too large"),
        ("sqrt(-1)", "domain", "sqrt() of a negative number"),
        ("asin(2)", "domain", "between -1 and 1"),
        ("acos(-1.5)", "domain", "between -1 and 1"),
        ("tan(90)", "domain", "undefined"),
        ("tan(-270)", "domain", "undefined"),
        ("(-8)**0.5", "domain", "fractional power"),
        ("clamp(1, 10, 0)", "domain", "lower bound 10 is above upper bound 0"),
        ("round(1, 0.5)", "domain", "whole number"),
        ("", "syntax", "it is empty"),
        ("   ", "syntax", "it is empty"),
        ("1 +", "syntax", "ends too early"),
        ("(1", "syntax", "missing ')'"),
        ("1)", "syntax", "unmatched ')'"),
        ("1 + * 2", "syntax", "unexpected '*' at position 5"),
        ("@L @W", "syntax", "unexpected '@W' at position 4"),
        ("1 if 2", "syntax", "'if' needs an 'else' part"),
        ("1 = 1", "syntax", "unexpected character '='"),
        ("2^3", "syntax", "unexpected character '^'"),
        ("5 (3)", "syntax", "use * to multiply"),
        ("(1, 2)", "syntax", "commas"),
        ("sqrt", "syntax", "sqrt is a function"),
        ("sqrt(1, 2)", "arguments", "sqrt() takes sqrt(x), got 2 argument(s)"),
        ("min()", "arguments", "got 0 argument(s)"),
        ("foo + 1", "unknown_name", "unknown name 'foo'"),
        ("foo(1)", "unknown_name", "unknown function 'foo'"),
        ("mm", "syntax", "must follow a number"),
        ("@L mm", "syntax", "must follow a number"),
        ("1 mm mm", "syntax", "two units in a row"),
        ("(1 mm) in", "unit", "already has a unit"),
        ("2pi", "syntax", "'pi' at position 2 is not a unit"),
        ("10 furlong", "syntax", "'furlong' at position 4 is not a unit"),
        ("1em", "syntax", "'em' at position 2 is not a unit"),
    ],
)
def test_errors(text: str, reason: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        ev(text)
    assert info.value.reason == reason
    assert message in str(info.value)


def test_error_hints_and_node_error() -> None:
    with pytest.raises(ExpressionError) as info:
        ev("width * 2")
    assert info.value.hint == "parameters are written with @, e.g. @width"
    node_error = info.value.to_node_error("box1", "width")
    assert isinstance(node_error, NodeError)
    assert node_error.code is ErrorCode.PARAM_INVALID
    assert str(node_error).startswith("node 'box1', parameter 'width': unknown name 'width'")
    assert isinstance(info.value, ValueError)


def test_expression_error_pickles() -> None:
    with pytest.raises(ExpressionError) as info:
        ev("@wal")
    copy = pickle.loads(pickle.dumps(info.value))
    assert (str(copy), copy.reason, copy.hint) == (str(info.value), "unknown_parameter", info.value.hint)


def test_non_string_input() -> None:
    assert evaluate(5, {}) == 5.0  # type: ignore[arg-type]
    assert evaluate(True, {}) is True  # type: ignore[arg-type]
    with pytest.raises(ExpressionError, match="expected a number or an expression"):
        evaluate(None, {})  # type: ignore[arg-type]
    with pytest.raises(ExpressionError, match="must be text"):
        compile_expression(b"1 + 1")  # type: ignore[arg-type]
    with pytest.raises(ExpressionError, match="must be text"):
        references(["@L"])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- injection

INJECTIONS = [
    "__import__('os').system('x')",
    "__import__",
    "().__class__.__bases__[0]",
    "().__class__.__bases__[0].__subclasses__()",
    "@L.__class__",
    "@L .real",
    "[x for x in ()]",
    "{1: 2}",
    "{1}",
    "(x for x in ())",
    "lambda: 1",
    "open('/etc/passwd')",
    "open",
    "eval('1')",
    "exec('import os')",
    "compile('1', 'x', 'eval')",
    "globals()",
    "locals()",
    "vars()",
    "getattr(1, 'real')",
    "type(1)",
    "breakpoint()",
    "print(1)",
    "input()",
    "9**9**9",
    "2**10000",
    "pow(10, 10000)",
    "10**10**10",
    "'a'*10**9",
    '"a"',
    "b'a'",
    "f'{1}'",
    "@L; import os",
    "import os",
    "1\nimport os",
    "@L if True else __import__('os')",
    "x := 1",
    "(y := 5)",
    "a = 1",
    "1 if (lambda: 1) else 2",
    "sqrt(x=1)",
    "sqrt(*[1])",
    "sqrt(**{})",
    "min(*())",
    "1 @ 2",
    "~1",
    "1 << 2",
    "1 & 2",
    "1 | 2",
    "1 in (1, 2)",
    "1 is 1",
    "not",
    "_p0",
    "_u_mm(1)",
    "_p0 + @L",
    "pi.real",
    "sqrt.__globals__",
    "\\x00",
    "1 # comment",
    "1\\\n+ 1",
    "0x10",
    "1_000",
    "1j",
    "...",
    "None",
    "yield 1",
    "await x",
    "1e308*10",
    "-1e308*10",
    "1e308**2",
    "x" * 10_000,
    "1+" * 400 + "1",
    "(" * 200 + "1" + ")" * 200,
    "-" * 450 + "1",
    "not " * 120 + "true",
    "sqrt(" * 80 + "1" + ")" * 80,
    "@a" * 300,
    "1" + " mm" * 100,
]

_FORBIDDEN_EVENTS = ("exec", "import", "open", "os.", "subprocess", "shutil", "socket", "ctypes", "builtins.input")


class _AuditRecorder:
    """Records dangerous audit events (PEP 578) while active. The hook stays installed (hooks
    cannot be removed) but is inert outside ``watch()``."""

    def __init__(self) -> None:
        self.active = False
        self.events: list[str] = []
        sys.addaudithook(self)

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if self.active and event.startswith(_FORBIDDEN_EVENTS):
            self.events.append(event)

    @contextmanager
    def watch(self) -> Iterator[list[str]]:
        self.events = []
        self.active = True
        try:
            yield self.events
        finally:
            self.active = False


_AUDIT = _AuditRecorder()


@pytest.mark.parametrize("text", INJECTIONS, ids=lambda t: repr(t)[:40])
def test_injection_is_refused_and_nothing_runs(text: str) -> None:
    with _AUDIT.watch() as events, pytest.raises(ExpressionError):
        evaluate(text, {"L": 1.0, "a": 1.0})
    assert events == []


def test_audit_recorder_sees_dangerous_events() -> None:
    with _AUDIT.watch() as events:
        exec("1")
    assert "exec" in events


def test_length_limit() -> None:
    text = "1" + " " * (MAX_LENGTH - 2) + "1"
    assert len(text) == MAX_LENGTH
    with pytest.raises(ExpressionError, match="unexpected '1'"):
        ev(text)  # read (and refused for its content), not refused for its length
    assert ev("1" + " " * (MAX_LENGTH - 1)) == 1.0
    with pytest.raises(ExpressionError, match="too long") as info:
        ev("1" * (MAX_LENGTH + 1))
    assert info.value.reason == "too_long"


def test_complexity_limits_allow_realistic_expressions() -> None:
    assert ev(" + ".join(["@L"] * 40)) == 2000.0
    assert ev("(" * 20 + "1" + ")" * 20) == 1.0
    for text in ("1+" * 200 + "1", "(" * 100 + "1" + ")" * 100):
        with pytest.raises(ExpressionError) as info:
            ev(text)
        assert info.value.reason == "too_complex"


# ---------------------------------------------------------------------------- misc API


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("@L", True),
        ("@L - 2*@wall", True),
        ("@L +", True),  # malformed, but meant as an expression: validation reports it
        ("10 mm", True),
        ("-2", True),
        ("sqrt(2)", True),
        ("pi", True),
        ("5", False),
        (" 2.5 ", False),
        (">Z", False),
        ("|Z", False),
        ("#Z", False),
        ("-Z", False),
        ("%CIRCLE", False),
        ("part.step", False),
        ("out/model-1.step", False),
        ("hello", False),
        ("", False),
        (5, False),
        (None, False),
        (True, False),
    ],
)
def test_is_expression(value: Any, expected: bool) -> None:
    assert is_expression(value) is expected


def test_compile_once_evaluate_many() -> None:
    compiled = compile_expression("@L - 2*@wall + 1 in")
    assert isinstance(compiled, Compiled)
    assert compile_expression("@L - 2*@wall + 1 in") is compiled  # cached
    assert compiled.references == {"L", "wall"}
    assert compiled.kind == "length"
    assert compiled.evaluate({"L": 50, "wall": 2}) == pytest.approx(71.4)
    assert compiled.evaluate({"L": 5, "wall": 2}, units="in") == pytest.approx(2.0)
    assert compiled.evaluate({"L": 5, "wall": 2}, units="mm") == pytest.approx(26.4)
    # errors depending on values surface at evaluation, not at compilation
    assert compile_expression("@L / @W").evaluate({"L": 1, "W": 4}) == 0.25
    assert compile_expression("1 / 0").references == frozenset()


def test_compiled_evaluation_is_fast() -> None:
    compiled = compile_expression("@L - 2*@wall if @L > 10 else min(@L, 3 mm)")
    compiled.evaluate(PARAMS)
    runs = 20_000
    start = time.perf_counter()
    for _ in range(runs):
        compiled.evaluate(PARAMS)
    per_call = (time.perf_counter() - start) / runs
    assert per_call < 50e-6, f"{per_call * 1e6:.1f} µs per evaluation"


# ---------------------------------------------------------------------------- properties


def _outcome(text: str) -> None:
    try:
        result = evaluate(text, PARAMS)
    except ExpressionError:
        return
    assert isinstance(result, (float, bool))
    assert isinstance(result, bool) or math.isfinite(result)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=120))
def test_random_text_only_raises_expression_error(text: str) -> None:
    _outcome(text)


_TOKENS = [
    *["0", "1", "2", "3", "9", "0.5", "1e3", "1e308", "1e-308", "100", "@L", "@W", "@wall", "@flag", "@zero", "@nope"],
    *[
        "+",
        "-",
        "*",
        "/",
        "//",
        "%",
        "**",
        "<",
        "<=",
        "==",
        "!=",
        ">",
        ">=",
        "(",
        ")",
        "(",
        ")",
        ",",
        "and",
        "or",
        "not",
        "if",
        "else",
    ],
    *["mm", "cm", "m", "in", "ft", "um", "deg", "rad", "°", "pi", "e", "true", "false"],
    *[
        "sqrt",
        "abs",
        "min",
        "max",
        "pow",
        "round",
        "floor",
        "ceil",
        "clamp",
        "hypot",
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "atan2",
    ],
    *["__import__", ".", "[", "]", "'", "=", ";", "lambda", "x", "_p0", "_u_mm"],
]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_TOKENS), max_size=25), st.sampled_from(["", " "]))
def test_token_soup_only_raises_expression_error(tokens: list[str], separator: str) -> None:
    _outcome(separator.join(tokens))


@st.composite
def _arithmetic(draw: st.DrawFn, depth: int = 0) -> tuple[str, float]:
    """An arithmetic expression and its value, built side by side (no eval in tests)."""
    if depth > 3 or draw(st.booleans()):
        number = draw(st.integers(min_value=-1000, max_value=1000))
        return (f"({number})" if number < 0 else str(number)), float(number)
    left_text, left = draw(_arithmetic(depth + 1))
    right_text, right = draw(_arithmetic(depth + 1))
    op = draw(st.sampled_from(["+", "-", "*", "neg", "min", "max"]))
    if op == "neg":
        return f"-({left_text})", -left
    if op in ("min", "max"):
        return f"{op}({left_text}, {right_text})", (min if op == "min" else max)(left, right)
    value = {"+": left + right, "-": left - right, "*": left * right}[op]
    return f"({left_text} {op} {right_text})", value


@settings(max_examples=300, deadline=None)
@given(_arithmetic())
def test_arithmetic_matches_reference(case: tuple[str, float]) -> None:
    text, expected = case
    assert evaluate(text, {}) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.sampled_from(sorted(UNIT_FACTORS_MM)),
    st.sampled_from(["mm", "cm", "m", "in"]),
)
def test_units_agree_with_convert_length(value: float, unit: str, graph_units: str) -> None:
    text = f"({value!r}) {unit}"
    assert evaluate(text, {}, units=graph_units) == pytest.approx(convert_length(value, unit, graph_units))
