"""Exchange formats: import STEP / IGES / STL / BREP, export STEP / IGES / STL / BREP / glTF / 3MF.

Two doors, both usable without the node layer (the CLI calls them directly):

* :func:`export_shape` writes one shape, one :class:`~brepflow_lab.kernel.part.Part` or a
  list of them to ``path``. Tags travel where the format allows: STEP and IGES carry part
  names and colours (through an XCAF document built by ``cq.Assembly``), glTF carries names
  and colours as PBR materials, 3MF carries object names and ``basematerials`` colours.
  STL and BREP carry geometry only. Part layers are attached as XCAF layers for STEP and
  IGES (written where OCCT's writers support it) but are not read back.
* :func:`import_parts` reads a file into a list of Parts / shapes (one per top-level part,
  assemblies flattened with their placements applied); :func:`import_shape` gives the whole
  file as one shape. STEP and IGES are read through XCAF, so names and colours come back
  as Part tags. A closed STL mesh is sewn into a solid (planar triangular faces).

Writes are atomic: the file is written into a fresh temporary folder next to the target
(so the name written inside STEP headers and glTF ``.bin`` references is the final one)
and moved into place with :func:`os.replace`; a failed export never leaves half a file.

Angles (``angular_tolerance``) are in degrees, like every angle in this package; lengths
are in graph units. glTF is written in metres with +Y up as its specification requires
(the ``units`` argument tells the writer what one graph unit is).

Every failure raises :class:`~brepflow_lab.errors.NodeError` with IMPORT_ERROR or
EXPORT_ERROR naming the file and the cause.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from brepflow_lab.core.errors import ErrorCode, NodeError
from brepflow_lab.core.units import METRES_PER_UNIT, STEP_UNIT_NAMES, THREEMF_UNIT_NAMES
from brepflow_lab.kernel import cq
from brepflow_lab.kernel.checks import is_valid
from brepflow_lab.kernel.context import KernelContext
from brepflow_lab.kernel.part import Part, shape_of

__all__ = [
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "combine_parts",
    "export_shape",
    "format_from_path",
    "import_parts",
    "import_shape",
]

#: format name -> file extensions (first one is the canonical one)
EXPORT_FORMATS: dict[str, tuple[str, ...]] = {
    "step": (".step", ".stp"),
    "iges": (".iges", ".igs"),
    "stl": (".stl",),
    "brep": (".brep", ".brp"),
    "glb": (".glb",),
    "gltf": (".gltf",),
    "3mf": (".3mf",),
}
IMPORT_FORMATS: dict[str, tuple[str, ...]] = {
    "step": (".step", ".stp"),
    "iges": (".iges", ".igs"),
    "stl": (".stl",),
    "brep": (".brep", ".brp"),
}

#: metres per graph unit (glTF is in metres), and the 3MF unit names
# unit names and factors per graph unit: the one table in brepflow_lab.core.units
_METRES_PER_UNIT = METRES_PER_UNIT
_THREEMF_UNITS = THREEMF_UNIT_NAMES
_STEP_UNITS = STEP_UNIT_NAMES


def _fail(ctx: KernelContext | None, code: ErrorCode, message: str, hint: str | None = None) -> NodeError:
    if ctx is not None:
        return ctx.error(code, message, hint=hint)
    return NodeError(code, message, hint=hint)


def format_from_path(path: str | os.PathLike[str], *, for_writing: bool, ctx: KernelContext | None = None) -> str:
    """The format name for ``path``'s extension (``.stp`` -> ``step``)."""
    table = EXPORT_FORMATS if for_writing else IMPORT_FORMATS
    suffix = Path(path).suffix.lower()
    for fmt, extensions in table.items():
        if suffix in extensions:
            return fmt
    known = ", ".join(ext for exts in table.values() for ext in exts)
    code = ErrorCode.EXPORT_ERROR if for_writing else ErrorCode.IMPORT_ERROR
    raise _fail(ctx, code, f"cannot tell the file format of '{path}' from its extension (known: {known})")


def _check_format(fmt: str, *, for_writing: bool, path: Path, ctx: KernelContext | None) -> str:
    table = EXPORT_FORMATS if for_writing else IMPORT_FORMATS
    name = fmt.lower().lstrip(".")
    name = {"stp": "step", "igs": "iges", "brp": "brep"}.get(name, name)
    if name not in table:
        code = ErrorCode.EXPORT_ERROR if for_writing else ErrorCode.IMPORT_ERROR
        raise _fail(ctx, code, f"unknown format '{fmt}' for '{path}' (known: {', '.join(table)})")
    return name


# --------------------------------------------------------------------------- export


def export_shape(
    shape_or_parts: Any,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    tolerance: float = 0.1,
    angular_tolerance: float = 10.0,
    ascii: bool = False,
    binary: bool | None = None,
    as_assembly: bool = False,
    units: str = "mm",
    ctx: KernelContext | None = None,
) -> Path:
    """Write a shape, a Part or a list of them to ``path``; return the written path.

    ``fmt`` is one of step|stl|glb|gltf|3mf|brep|iges (default: from the extension).
    ``tolerance`` (graph units) and ``angular_tolerance`` (degrees) control tessellation for
    the mesh formats (STL, glTF, 3MF). ``ascii`` selects ASCII STL. ``binary`` chooses GLB
    (True) or glTF + .bin (False) whatever the extension says. ``as_assembly`` writes STEP
    as an assembly with one component per input even without tags.
    """
    target = Path(path)
    name = _check_format(fmt, for_writing=True, path=target, ctx=ctx) if fmt else None
    name = name or format_from_path(target, for_writing=True, ctx=ctx)
    items = _as_items(shape_or_parts, target, ctx)
    if tolerance <= 0 or not math.isfinite(tolerance):
        raise _fail(ctx, ErrorCode.EXPORT_ERROR, f"mesh tolerance must be > 0 for '{target}', got {tolerance}")
    if not 0 < angular_tolerance <= 180:
        raise _fail(
            ctx, ErrorCode.EXPORT_ERROR, f"angular tolerance must be in (0, 180] degrees, got {angular_tolerance}"
        )
    angular = math.radians(angular_tolerance)
    writers: dict[str, Callable[[Path], None]] = {
        "step": lambda p: _write_step(items, p, as_assembly=as_assembly, units=units),
        "iges": lambda p: _write_iges(items, p, units=units),
        "brep": lambda p: _write_brep(items, p),
        "stl": lambda p: _write_stl(items, p, tolerance, angular, ascii=ascii),
        "glb": lambda p: _write_gltf(
            items, p, tolerance, angular, binary=True if binary is None else binary, units=units
        ),
        "gltf": lambda p: _write_gltf(items, p, tolerance, angular, binary=bool(binary), units=units),
        "3mf": lambda p: _write_3mf(items, p, tolerance, angular, units=units),
    }
    return _write_atomically(target, name, writers[name], ctx)


def _as_items(value: Any, path: Path, ctx: KernelContext | None) -> list[Any]:
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    shape_cls = cq().Shape
    out = []
    for item in items:
        shape = shape_of(item)
        if not isinstance(shape, shape_cls) or shape.wrapped is None or shape.wrapped.IsNull():
            raise _fail(
                ctx, ErrorCode.EXPORT_ERROR, f"nothing to export to '{path}': got {type(item).__name__}, not a shape"
            )
        out.append(item)
    if not out:
        raise _fail(ctx, ErrorCode.EXPORT_ERROR, f"nothing to export to '{path}': no shapes were given")
    return out


def _write_atomically(target: Path, fmt: str, write: Callable[[Path], None], ctx: KernelContext | None) -> Path:
    label = fmt.upper()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmpdir = Path(tempfile.mkdtemp(prefix=".bflow-export-", dir=target.parent))
    except OSError as exc:
        raise _fail(
            ctx, ErrorCode.EXPORT_ERROR, f"cannot create the folder for '{target}': {exc.strerror or exc}"
        ) from None
    try:
        staged = tmpdir / target.name
        try:
            write(staged)
        except NodeError:
            raise
        except OSError as exc:
            raise _fail(
                ctx, ErrorCode.EXPORT_ERROR, f"writing {label} file '{target}' failed: {exc.strerror or exc}"
            ) from None
        except Exception as exc:  # OCCT's Standard_Failure and friends
            raise _fail(
                ctx, ErrorCode.EXPORT_ERROR, f"the {label} writer failed on '{target}': {_describe(exc)}"
            ) from None
        if not staged.is_file() or staged.stat().st_size == 0:
            raise _fail(ctx, ErrorCode.EXPORT_ERROR, f"the {label} writer produced no data for '{target}'")
        try:
            for extra in tmpdir.iterdir():  # e.g. the .bin buffer of a .gltf
                if extra != staged:
                    os.replace(extra, target.parent / extra.name)
            os.replace(staged, target)
        except OSError as exc:
            raise _fail(
                ctx,
                ErrorCode.EXPORT_ERROR,
                f"cannot move the {label} file into place at '{target}': {exc.strerror or exc}",
            ) from None
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return target


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _compound(items: Sequence[Any]) -> Any:
    shapes = [shape_of(i) for i in items]
    return shapes[0] if len(shapes) == 1 else cq().Compound.makeCompound(shapes)


def _has_tags(items: Sequence[Any]) -> bool:
    return any(isinstance(i, Part) and (i.name or i.color or i.material or i.layer) for i in items)


def _assembly(items: Sequence[Any], root_name: str) -> Any:
    """A flat ``cq.Assembly``: one child per item, with unique names, colours, materials, layers."""
    m = cq()
    part_names = {i.name for i in items if isinstance(i, Part) and i.name}
    while root_name in part_names:  # the root must not take a part's name
        root_name += "_assembly"
    assy = m.Assembly(name=root_name)
    used: set[str] = {root_name}
    for index, item in enumerate(items, start=1):
        base = (item.name if isinstance(item, Part) and item.name else None) or f"part{index}"
        name, n = base, 2
        while name in used:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        kwargs: dict[str, Any] = {"name": name}
        if isinstance(item, Part):
            if item.color is not None:
                kwargs["color"] = m.Color(*item.color)
            if item.material:
                kwargs["material"] = m.Material(item.material)
        assy.add(shape_of(item), **kwargs)
    return assy


def _xcaf_document(
    items: Sequence[Any], root_name: str, *, mesh: bool = False, tolerance: float = 0.1, angular: float = 0.2
) -> Any:
    """An XCAF document (names, colours, materials via ``cq.Assembly``; layers added here)."""
    from cadquery.occ_impl.assembly import toCAF
    from OCP.TCollection import TCollection_ExtendedString
    from OCP.TDF import TDF_LabelSequence
    from OCP.XCAFDoc import XCAFDoc_DocumentTool

    assy = _assembly(items, root_name)
    _, doc = toCAF(assy, True, mesh, tolerance, angular)
    layers = {
        child.name: item.layer for child, item in zip(assy.children, items) if isinstance(item, Part) and item.layer
    }
    if layers:
        shape_tool = XCAFDoc_DocumentTool.ShapeTool_s(doc.Main())
        layer_tool = XCAFDoc_DocumentTool.LayerTool_s(doc.Main())
        labels = TDF_LabelSequence()
        shape_tool.GetShapes(labels)
        for i in range(1, labels.Length() + 1):
            label = labels.Value(i)
            layer = layers.get(_label_name(label) or "")
            if layer and shape_tool.IsSimpleShape_s(label):
                layer_tool.SetLayer(label, TCollection_ExtendedString(layer))
    return doc


def _write_step(items: Sequence[Any], path: Path, *, as_assembly: bool, units: str) -> None:
    from OCP.IFSelect import IFSelect_ReturnStatus
    from OCP.Interface import Interface_Static
    from OCP.STEPControl import STEPControl_AsIs, STEPControl_Writer

    unit = _STEP_UNITS.get(units, "MM")
    if as_assembly or _has_tags(items):
        from OCP.STEPCAFControl import STEPCAFControl_Writer
        from OCP.XSControl import XSControl_WorkSession

        doc = _xcaf_document(items, path.stem)
        caf_writer = STEPCAFControl_Writer(XSControl_WorkSession(), False)
        caf_writer.SetColorMode(True)
        caf_writer.SetNameMode(True)
        caf_writer.SetLayerMode(True)
        Interface_Static.SetCVal_s("write.step.unit", unit)
        Interface_Static.SetIVal_s("write.surfacecurve.mode", 1)
        if not caf_writer.Transfer(doc, STEPControl_AsIs):
            raise RuntimeError("the STEP translator could not transfer the assembly")
        if caf_writer.Write(str(path)) != IFSelect_ReturnStatus.IFSelect_RetDone:
            raise RuntimeError("the STEP writer could not write the file")
        return
    writer = STEPControl_Writer()
    Interface_Static.SetCVal_s("write.step.unit", unit)
    Interface_Static.SetIVal_s("write.surfacecurve.mode", 1)
    if writer.Transfer(_compound(items).wrapped, STEPControl_AsIs) != IFSelect_ReturnStatus.IFSelect_RetDone:
        raise RuntimeError("the STEP translator could not transfer the shape")
    if writer.Write(str(path)) != IFSelect_ReturnStatus.IFSelect_RetDone:
        raise RuntimeError("the STEP writer could not write the file")


def _write_iges(items: Sequence[Any], path: Path, *, units: str) -> None:
    from OCP.IGESCAFControl import IGESCAFControl_Writer
    from OCP.IGESControl import IGESControl_Controller
    from OCP.Interface import Interface_Static

    IGESControl_Controller.Init_s()  # defines the write.iges.* statics before they are set
    Interface_Static.SetIVal_s("write.iges.brep.mode", 1)  # solids as MSBO (BRep) entities
    Interface_Static.SetCVal_s("write.iges.unit", _STEP_UNITS.get(units, "MM"))
    doc = _xcaf_document(items, path.stem)
    writer = IGESCAFControl_Writer()
    if not writer.Transfer(doc):
        raise RuntimeError("the IGES translator could not transfer the shapes")
    if not writer.Write(str(path)):
        raise RuntimeError("the IGES writer could not write the file")


def _write_brep(items: Sequence[Any], path: Path) -> None:
    from OCP.BRepTools import BRepTools

    if not BRepTools.Write_s(_compound(items).wrapped, str(path)):
        raise RuntimeError("the BREP writer could not write the file")


def _mesh(shape: Any, tolerance: float, angular: float) -> None:
    from OCP.BRepMesh import BRepMesh_IncrementalMesh

    BRepMesh_IncrementalMesh(shape.wrapped, tolerance, False, angular, True)


def _write_stl(items: Sequence[Any], path: Path, tolerance: float, angular: float, *, ascii: bool) -> None:
    from OCP.StlAPI import StlAPI_Writer

    shape = _compound(items)
    _mesh(shape, tolerance, angular)
    writer = StlAPI_Writer()
    writer.ASCIIMode = ascii
    if not writer.Write(shape.wrapped, str(path)):
        raise RuntimeError("the STL writer failed (does the shape have faces to tessellate?)")


def _write_gltf(
    items: Sequence[Any], path: Path, tolerance: float, angular: float, *, binary: bool, units: str
) -> None:
    from OCP.Message import Message_ProgressRange
    from OCP.RWGltf import RWGltf_CafWriter
    from OCP.RWMesh import RWMesh_CoordinateSystem
    from OCP.TCollection import TCollection_AsciiString
    from OCP.TColStd import TColStd_IndexedDataMapOfStringString

    doc = _xcaf_document(items, path.stem, mesh=True, tolerance=tolerance, angular=angular)
    writer = RWGltf_CafWriter(TCollection_AsciiString(str(path)), binary)
    converter = writer.ChangeCoordinateSystemConverter()
    converter.SetInputLengthUnit(_METRES_PER_UNIT.get(units, 1e-3))
    converter.SetInputCoordinateSystem(RWMesh_CoordinateSystem.RWMesh_CoordinateSystem_Zup)
    if not writer.Perform(doc, TColStd_IndexedDataMapOfStringString(), Message_ProgressRange()):
        raise RuntimeError("the glTF writer reported failure")


def _hex_rgba(color: tuple[float, float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c * 255))):02X}" for c in color)


def _write_3mf(items: Sequence[Any], path: Path, tolerance: float, angular: float, *, units: str) -> None:
    """3MF core spec: one mesh object per item, colours as ``basematerials``."""
    colors: list[tuple[float, float, float, float]] = []
    for item in items:
        if isinstance(item, Part) and item.color is not None and item.color not in colors:
            colors.append(item.color)
    first_object_id = 2 if colors else 1
    objects: list[str] = []
    build: list[str] = []
    for index, item in enumerate(items):
        vertices, triangles = shape_of(item).tessellate(tolerance, angular)
        if not triangles:
            continue
        object_id = first_object_id + index
        name = item.name if isinstance(item, Part) and item.name else f"part{index + 1}"
        attrs = f' id="{object_id}" type="model" name={quoteattr(name)}'
        if isinstance(item, Part) and item.color is not None:
            attrs += f' pid="1" pindex="{colors.index(item.color)}"'
        vertex_xml = "".join(f'<vertex x="{v.x:.9g}" y="{v.y:.9g}" z="{v.z:.9g}"/>' for v in vertices)
        triangle_xml = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in triangles)
        objects.append(
            f"<object{attrs}><mesh><vertices>{vertex_xml}</vertices>"
            f"<triangles>{triangle_xml}</triangles></mesh></object>"
        )
        build.append(f'<item objectid="{object_id}"/>')
    if not objects:
        raise RuntimeError("no faces to tessellate (3MF holds closed meshes only)")
    materials = ""
    if colors:
        bases = "".join(
            f'<base name={quoteattr(f"color{i}")} displaycolor="{_hex_rgba(c)}"/>' for i, c in enumerate(colors)
        )
        materials = f'<basematerials id="1">{bases}</basematerials>'
    model = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<model unit="{_THREEMF_UNITS.get(units, "millimeter")}" xml:lang="en-US" '
        'xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">'
        f'<metadata name="Application">{escape("brepflow_lab")}</metadata>'
        f"<resources>{materials}{''.join(objects)}</resources><build>{''.join(build)}</build></model>"
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Target="/3D/3dmodel.model" Id="rel0" '
        'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/>'
        "</Relationships>"
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("3D/3dmodel.model", model)


# --------------------------------------------------------------------------- import


def combine_parts(items: Sequence[Any]) -> Any:
    """One shape from a list of Parts / shapes (the single shape itself, or a compound)."""
    return _compound(items)


def import_shape(path: str | os.PathLike[str], fmt: str | None = None, *, ctx: KernelContext | None = None) -> Any:
    """The whole file as one cadquery shape (a compound when it holds several parts)."""
    return _compound(import_parts(path, fmt, ctx=ctx))


def import_parts(
    path: str | os.PathLike[str], fmt: str | None = None, *, ctx: KernelContext | None = None
) -> list[Any]:
    """Read ``path``: one Part (when the file names or colours it) or shape per top-level part."""
    source = Path(path)
    name = _check_format(fmt, for_writing=False, path=source, ctx=ctx) if fmt else None
    name = name or format_from_path(source, for_writing=False, ctx=ctx)
    label = name.upper()
    if not source.exists():
        raise _fail(ctx, ErrorCode.IMPORT_ERROR, f"{label} file '{source}' not found")
    if not source.is_file():
        raise _fail(ctx, ErrorCode.IMPORT_ERROR, f"'{source}' is a folder, not a {label} file")
    try:
        with source.open("rb") as handle:
            head = handle.read(1)
    except OSError as exc:
        raise _fail(
            ctx, ErrorCode.IMPORT_ERROR, f"cannot read {label} file '{source}': {exc.strerror or exc}"
        ) from None
    if not head:
        raise _fail(ctx, ErrorCode.IMPORT_ERROR, f"{label} file '{source}' is empty")
    readers: dict[str, Callable[[Path], list[Any]]] = {
        "step": _read_step,
        "iges": _read_iges,
        "brep": _read_brep,
        "stl": _read_stl,
    }
    try:
        items = readers[name](source)
    except _ReadError as exc:
        raise _fail(ctx, ErrorCode.IMPORT_ERROR, f"{label} file '{source}' could not be read: {exc}") from None
    except Exception as exc:  # OCCT's Standard_Failure and friends
        raise _fail(
            ctx, ErrorCode.IMPORT_ERROR, f"{label} file '{source}' could not be read: {_describe(exc)}"
        ) from None
    if not items:
        raise _fail(ctx, ErrorCode.IMPORT_ERROR, f"{label} file '{source}' contains no geometry")
    invalid = [i for i in items if not is_valid(shape_of(i))]
    if invalid:
        raise _fail(
            ctx,
            ErrorCode.IMPORT_ERROR,
            f"{label} file '{source}' holds {len(invalid)} invalid shape(s) (broken topology)",
            hint="repair the file in the CAD tool that wrote it",
        )
    return items


class _ReadError(Exception):
    pass


def _read_xcaf(path: Path, kind: str) -> list[Any]:
    from OCP.IFSelect import IFSelect_ReturnStatus
    from OCP.TCollection import TCollection_ExtendedString
    from OCP.TDF import TDF_LabelSequence
    from OCP.TDocStd import TDocStd_Document
    from OCP.TopAbs import TopAbs_COMPOUND
    from OCP.TopLoc import TopLoc_Location
    from OCP.XCAFDoc import XCAFDoc_DocumentTool

    if kind == "step":
        from OCP.STEPCAFControl import STEPCAFControl_Reader

        reader: Any = STEPCAFControl_Reader()
    else:
        from OCP.IGESCAFControl import IGESCAFControl_Reader

        reader = IGESCAFControl_Reader()
    reader.SetColorMode(True)
    reader.SetNameMode(True)
    reader.SetLayerMode(True)
    if reader.ReadFile(str(path)) != IFSelect_ReturnStatus.IFSelect_RetDone:
        raise _ReadError(f"not a valid {kind.upper()} file (the reader rejected its syntax)")
    doc = TDocStd_Document(TCollection_ExtendedString("XmlXCAF"))
    if not reader.Transfer(doc):
        raise _ReadError("no shape could be translated from it")
    shape_tool = XCAFDoc_DocumentTool.ShapeTool_s(doc.Main())
    color_tool = XCAFDoc_DocumentTool.ColorTool_s(doc.Main())
    layer_tool = XCAFDoc_DocumentTool.LayerTool_s(doc.Main())
    roots = TDF_LabelSequence()
    shape_tool.GetFreeShapes(roots)
    out: list[Any] = []

    def walk(label: Any, location: Any, name: str | None, color: Any) -> None:
        if shape_tool.IsAssembly_s(label):
            components = TDF_LabelSequence()
            shape_tool.GetComponents_s(label, components)
            for i in range(1, components.Length() + 1):
                component = components.Value(i)
                referred = type(label)()
                if not shape_tool.GetReferredShape_s(component, referred):
                    continue
                walk(
                    referred,
                    location.Multiplied(shape_tool.GetLocation_s(component)),
                    _label_name(component) or _label_name(referred),
                    _label_color(color_tool, component) or color,
                )
            return
        raw = shape_tool.GetShape_s(label)
        if raw.IsNull():
            return
        own_color = _label_color(color_tool, label) or color or _shape_color(color_tool, raw)
        own_name = name or _label_name(label)
        layer = _label_layer(layer_tool, label, raw)
        children = _children(raw) if raw.ShapeType() == TopAbs_COMPOUND else []
        tagged = [(c, _shape_color(color_tool, c)) for c in children]
        if len(children) > 1 and any(c_color for _, c_color in tagged):
            # one compound holding differently coloured parts (IGES keeps colours per solid)
            for child, child_color in tagged:
                add(child, location, None, child_color or own_color, _label_layer(layer_tool, None, child) or layer)
            return
        add(raw, location, own_name, own_color, layer)

    def add(raw: Any, location: Any, name: str | None, color: Any, layer: str | None) -> None:
        shape = cq().Shape.cast(raw.Moved(location) if not location.IsIdentity() else raw)
        out.append(Part(shape, name=name, color=color, layer=layer) if name or color or layer else shape)

    for i in range(1, roots.Length() + 1):
        walk(roots.Value(i), TopLoc_Location(), None, None)
    return out


def _label_name(label: Any) -> str | None:
    from OCP.TDataStd import TDataStd_Name

    # IsAttribute first: OCP's FindAttribute crashes the process when the attribute is absent
    if not label.IsAttribute(TDataStd_Name.GetID_s()):
        return None
    attribute = TDataStd_Name()
    if label.FindAttribute(TDataStd_Name.GetID_s(), attribute):
        text = attribute.Get().ToExtString().strip()
        # translators invent names like "Open CASCADE STEP translator 7.9 1"; they are no names
        if text and not text.startswith("Open CASCADE"):
            return str(text)
    return None


def _rgba(color: Any) -> tuple[float, float, float, float]:
    rgb = color.GetRGB()
    return (rgb.Red(), rgb.Green(), rgb.Blue(), color.Alpha())


def _label_color(color_tool: Any, label: Any) -> tuple[float, float, float, float] | None:
    from OCP.Quantity import Quantity_ColorRGBA
    from OCP.XCAFDoc import XCAFDoc_ColorType

    color = Quantity_ColorRGBA()
    for kind in (XCAFDoc_ColorType.XCAFDoc_ColorSurf, XCAFDoc_ColorType.XCAFDoc_ColorGen):
        if color_tool.GetColor_s(label, kind, color):
            return _rgba(color)
    return None


def _shape_color(color_tool: Any, shape: Any) -> tuple[float, float, float, float] | None:
    from OCP.Quantity import Quantity_ColorRGBA
    from OCP.XCAFDoc import XCAFDoc_ColorType

    color = Quantity_ColorRGBA()
    for kind in (XCAFDoc_ColorType.XCAFDoc_ColorSurf, XCAFDoc_ColorType.XCAFDoc_ColorGen):
        if color_tool.GetColor(shape, kind, color):
            return _rgba(color)
    return None


def _label_layer(layer_tool: Any, label: Any | None, shape: Any) -> str | None:
    from OCP.TColStd import TColStd_HSequenceOfExtendedString

    for key in (label, shape):
        if key is None:
            continue
        layers = TColStd_HSequenceOfExtendedString()
        try:
            found = layer_tool.GetLayers(key, layers)
        except Exception:  # layer lookup is best effort; geometry matters more
            continue
        if found and layers.Length() > 0:
            return str(layers.Value(1).ToExtString())
    return None


def _children(raw: Any) -> list[Any]:
    from OCP.TopoDS import TopoDS_Iterator

    out = []
    iterator = TopoDS_Iterator(raw)
    while iterator.More():
        out.append(iterator.Value())
        iterator.Next()
    return out


def _read_step(path: Path) -> list[Any]:
    return _read_xcaf(path, "step")


def _read_iges(path: Path) -> list[Any]:
    items = _read_xcaf(path, "iges")
    # IGES written in face mode comes back as loose faces: sew them into solids
    return [_sew_if_faces(item) for item in items]


def _read_brep(path: Path) -> list[Any]:
    from OCP.BRep import BRep_Builder
    from OCP.BRepTools import BRepTools
    from OCP.TopoDS import TopoDS_Shape

    raw = TopoDS_Shape()
    if not BRepTools.Read_s(raw, str(path), BRep_Builder()) or raw.IsNull():
        raise _ReadError("not a valid BREP file")
    shape = cq().Shape.cast(raw)
    if isinstance(shape, cq().Compound):
        return list(shape)
    return [shape]


def _read_stl(path: Path) -> list[Any]:
    from OCP.StlAPI import StlAPI_Reader
    from OCP.TopoDS import TopoDS_Shape

    raw = TopoDS_Shape()
    if not StlAPI_Reader().Read(raw, str(path)) or raw.IsNull():
        raise _ReadError("not a valid STL file")
    shape = cq().Shape.cast(raw)
    if not shape.Faces():
        raise _ReadError("it holds no triangles")
    return [_sew(shape, tolerance=1e-6)]


def _sew_if_faces(item: Any) -> Any:
    shape = shape_of(item)
    if shape.Solids() or not shape.Faces():
        return item
    sewn = _sew(shape, tolerance=1e-4)
    return (
        Part(sewn, **{k: getattr(item, k) for k in ("name", "material", "layer", "color", "density")})
        if isinstance(item, Part)
        else sewn
    )


def _sew(shape: Any, *, tolerance: float) -> Any:
    """Sew faces into shells; closed shells become solids (outward oriented)."""
    from OCP.BRepBuilderAPI import BRepBuilderAPI_MakeSolid, BRepBuilderAPI_Sewing
    from OCP.BRepLib import BRepLib

    m = cq()
    sewing = BRepBuilderAPI_Sewing(tolerance)
    sewing.Add(shape.wrapped)
    sewing.Perform()
    sewn = m.Shape.cast(sewing.SewedShape())
    shells = sewn.Shells()
    if not shells:
        return sewn
    results: list[Any] = []
    for shell in shells:
        if shell.Closed():
            maker = BRepBuilderAPI_MakeSolid(shell.wrapped)
            solid = maker.Solid()
            BRepLib.OrientClosedSolid_s(solid)
            results.append(m.Shape.cast(solid))
        else:
            results.append(shell)
    return results[0] if len(results) == 1 else m.Compound.makeCompound(results)
