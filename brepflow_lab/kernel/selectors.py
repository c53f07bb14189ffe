"""Edge and face selection with CadQuery's string selectors.

Features such as Fillet, Chamfer, Shell and Draft act on *some* edges or faces of a
shape. A graph cannot hold references to topology (OCCT's sub-shape ids change whenever
an upstream parameter changes), so the choice is written as a CadQuery selector string
that is re-applied to whatever shape arrives:

``>Z``            the edges/faces farthest along +Z (the top)
``<Z``            the bottom
``|Z``            edges parallel to Z / faces whose normal is parallel to Z
``#Z``            edges/faces perpendicular to Z (the sides of a box are ``#Z`` faces)
``%LINE``         by geometry type (``LINE``, ``CIRCLE``, ``PLANE``, ``CYLINDER`` ...)
``>Z[-2]``        the second farthest group along Z
``not <Z``        everything except the bottom
``>Z or <Z``      top and bottom; ``and`` and ``exc`` combine selectors too

This module turns selector problems into PARAM_INVALID errors that say what went wrong
in the user's terms: a syntax error names the selector and the position; a selector that
matches nothing says how many edges/faces the shape has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from brepflow_lab.errors import ErrorCode
from brepflow_lab.kernel import cq

if TYPE_CHECKING:
    from brepflow_lab.nodes.spec import NodeContext

__all__ = ["SELECTOR_SYNTAX", "select_edges", "select_faces"]

SELECTOR_SYNTAX = (
    "CadQuery selector syntax: '>Z' (top), '<Z' (bottom), '|Z' (parallel to Z), '#Z' "
    "(perpendicular to Z), '%CIRCLE' (by type), '>Z[-2]' (second from top); combine with "
    "'and', 'or', 'not', 'exc', e.g. '>Z or <Z', 'not <Z', '|Z and >X'"
)

Kind = Literal["edge", "face"]


def select_edges(ctx: NodeContext, shape: Any, selector: str, *, param: str = "edges") -> list[Any]:
    """The edges of ``shape`` matched by ``selector`` (never empty: raises instead)."""
    return _select(ctx, shape, selector, "edge", param)


def select_faces(ctx: NodeContext, shape: Any, selector: str, *, param: str = "faces") -> list[Any]:
    """The faces of ``shape`` matched by ``selector`` (never empty: raises instead)."""
    return _select(ctx, shape, selector, "face", param)


def _select(ctx: NodeContext, shape: Any, selector: str, kind: Kind, param: str) -> list[Any]:
    text = selector.strip()
    candidates = list(shape.Edges() if kind == "edge" else shape.Faces())
    count = f"{len(candidates)} {kind}{'' if len(candidates) == 1 else 's'}"
    if not text:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"no {kind}s chosen: the selector is empty",
            param=param,
            hint=SELECTOR_SYNTAX,
        )
    try:
        parsed = cq().selectors.StringSyntaxSelector(text)
    except Exception as exc:  # pyparsing.ParseException and friends
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"selector '{text}' is not valid selector syntax ({_first_line(exc)})",
            param=param,
            hint=SELECTOR_SYNTAX,
        ) from None
    try:
        selected = list(parsed.filter(candidates))
    except IndexError:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"selector '{text}' asks for a group index the shape does not have (it has {count})",
            param=param,
            hint="'>Z[0]' is the farthest group along Z, '>Z[-1]' the nearest; indices count groups at distinct heights",
        ) from None
    except Exception as exc:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"selector '{text}' could not be applied to the {count} of the shape ({_first_line(exc)})",
            param=param,
            hint=SELECTOR_SYNTAX,
        ) from None
    if not selected:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"selector '{text}' matched none of the {count} of the shape",
            param=param,
            hint=SELECTOR_SYNTAX,
        )
    return selected


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
