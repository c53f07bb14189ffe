"""Canonical shape fingerprints: stable across rebuilds and processes, sensitive to changes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import cadquery as cq
import pytest

from brepflow_lab.kernel.hashing import canonical_form, fingerprint, shape_summary
from brepflow_lab.kernel.part import Part

MODEL = textwrap.dedent(
    """
    import cadquery as cq

    def build(width=30.0):
        return (
            cq.Workplane("XY").box(width, 20, 10).edges("|Z").fillet(3).faces(">Z").shell(-1.5).val()
        )
    """
)
namespace: dict = {}
exec(MODEL, namespace)
build = namespace["build"]


def test_same_model_built_twice_has_same_fingerprint() -> None:
    a, b = build(), build()
    assert a.isValid() and b.isValid()
    assert a is not b
    assert fingerprint(a) == fingerprint(b)
    assert len(fingerprint(a)) == 64


def test_brep_text_is_not_what_is_hashed() -> None:
    # the fingerprint must not depend on OCCT's table order; rebuild and compare form too
    assert canonical_form(build()) == canonical_form(build())


def test_fingerprint_in_another_process_is_equal() -> None:
    code = MODEL + textwrap.dedent(
        """
        from brepflow_lab.kernel.hashing import fingerprint
        print(fingerprint(build()))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == fingerprint(build())


def test_small_change_changes_fingerprint() -> None:
    assert fingerprint(build(30.0)) != fingerprint(build(30.01))


def test_translated_copy_differs() -> None:
    shape = build()
    moved = shape.moved(cq.Location(cq.Vector(5, 0, 0)))
    assert moved.Volume() == pytest.approx(shape.Volume())
    assert fingerprint(moved) != fingerprint(shape)


def test_face_order_independence() -> None:
    box1 = cq.Solid.makeBox(10, 10, 10)
    box2 = cq.Solid.makeBox(5, 6, 7, pnt=cq.Vector(20, 0, 0))
    one = cq.Compound.makeCompound([box1, box2])
    two = cq.Compound.makeCompound([box2, box1])
    assert [f.Center().toTuple() for f in one.Faces()] != [f.Center().toTuple() for f in two.Faces()]
    assert fingerprint(one) == fingerprint(two)


def test_part_tags_do_not_change_fingerprint_and_digits_matter() -> None:
    shape = build()
    assert fingerprint(Part(shape, name="x", color=(1, 0, 0, 1))) == fingerprint(shape)
    # coarse rounding hides a 0.01 mm change that the default resolution sees
    assert fingerprint(build(30.0), digits=2) == fingerprint(build(30.01), digits=2)


def test_shape_summary() -> None:
    shape = build()
    summary = shape_summary(shape)
    assert summary["valid"] is True
    assert summary["volume"] == pytest.approx(shape.Volume(), rel=1e-9)
    assert summary["area"] == pytest.approx(shape.Area(), rel=1e-9)
    assert summary["counts"]["solids"] == 1
    assert summary["counts"]["faces"] == len(shape.Faces())
    assert summary["bbox"]["min"] == pytest.approx([-15, -10, -5], abs=1e-6)
    assert summary["bbox"]["max"] == pytest.approx([15, 10, 5], abs=1e-6)
    assert summary["diagonal"] == pytest.approx((30**2 + 20**2 + 10**2) ** 0.5, rel=1e-9)
    assert summary["fingerprint"] == fingerprint(shape)
    json.dumps(summary)  # manifest-ready


def test_curves_and_bad_input() -> None:
    edge = cq.Edge.makeCircle(5)
    assert fingerprint(edge) == fingerprint(cq.Edge.makeCircle(5))
    assert fingerprint(edge) != fingerprint(cq.Edge.makeCircle(5.01))
    with pytest.raises(TypeError):
        fingerprint("not a shape")
