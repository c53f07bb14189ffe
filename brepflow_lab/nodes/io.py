"""IO nodes: import STEP / IGES / STL / BREP files, export STEP / STL / IGES / BREP / glTF / 3MF.

Names follow BrepFlow's ``io.ts``: ``IO::ImportSTEP`` (param ``filepath``, output ``shapes``),
``IO::ExportSTEP`` (input ``shapes``, params ``filepath`` / ``asAssembly``, output ``success``),
``IO::ExportSTL`` (input ``shape``, params ``filepath`` / ``binary`` / ``deflection``). The other
import and export nodes are ours and use the same names. BrepFlow's worker writes only STEP
and STL; every export here writes a real file, atomically, and also outputs the written
``path``. Imports add a ``shape`` output: the whole file as one shape.

Paths come from an untrusted graph file: they are resolved by
:meth:`~brepflow_lab.nodes.spec.NodeContext.resolve_path` (relative to the graph's folder for
reads, to the output folder for writes; absolute paths and ``..`` escapes are refused unless
the caller allows them). Exports have ``side_effects=True``: they always run, never cached.
"""

from __future__ import annotations

from typing import Any

from brepflow_lab.kernel import exchange
from brepflow_lab.nodes.registry import node
from brepflow_lab.nodes.spec import InputSpec, NodeContext, OutputSpec, ParamSpec

__all__: list[str] = []

_FILEPATH_READ_HELP = (
    "File to read, relative to the graph file's folder (e.g. 'parts/bracket.step'). Absolute paths and "
    "'..' are refused unless the graph is run with allow_unsafe_paths (CLI: --allow-unsafe-paths)."
)
_FILEPATH_WRITE_HELP = (
    "File to write, relative to the output folder (e.g. 'out/bracket{ext}'); missing folders are "
    "created and an existing file is replaced atomically. Absolute paths and '..' are refused unless "
    "the graph is run with allow_unsafe_paths."
)

_IMPORT_OUTPUTS = [
    OutputSpec(
        "shapes", "Shape", multiple=True, help="one shape per top-level part (a Part when the file names or colours it)"
    ),
    OutputSpec("shape", "Shape", help="everything in the file as one shape (a compound when it holds several parts)"),
]
_SHAPES_INPUT = InputSpec(
    "shapes", "Shape", multiple=True, keep_parts=True, help="shapes or Parts to write (Part names and colours are kept)"
)
_EXPORT_OUTPUTS = [
    OutputSpec("success", "Data", help="true once the file is written (BrepFlow's output)"),
    OutputSpec("path", "String", help="absolute path of the written file"),
]


def _deflection(default: float = 0.1) -> ParamSpec:
    return ParamSpec(
        "deflection",
        default=default,
        min=0.001,
        max=10,
        dimension="length",
        help="largest distance between the true surface and its triangles (smaller = finer, bigger file)",
    )


def _angular_deflection() -> ParamSpec:
    return ParamSpec(
        "angularDeflection",
        default=10.0,
        min=0.5,
        max=90,
        dimension="angle",
        help="largest angle between neighbouring triangles on curved faces, in degrees",
    )


def _import(ctx: NodeContext, params: dict[str, Any], fmt: str) -> dict[str, Any]:
    path = ctx.resolve_path("filepath", params["filepath"], for_writing=False)
    items = exchange.import_parts(path, fmt, ctx=ctx)
    return {"shapes": items, "shape": exchange.combine_parts(items)}


def _filepath_read() -> ParamSpec:
    return ParamSpec("filepath", "string", default="", label="File Path", help=_FILEPATH_READ_HELP)


def _filepath_write(default: str) -> ParamSpec:
    ext = default[default.rindex(".") :]
    return ParamSpec(
        "filepath", "string", default=default, label="File Path", help=_FILEPATH_WRITE_HELP.format(ext=ext)
    )


@node(
    "IO::ImportSTEP",
    outputs=_IMPORT_OUTPUTS,
    params=[_filepath_read()],
    description="Import a STEP file (AP203/AP214/AP242); part names and colours become Part tags.",
)
def import_step(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return _import(ctx, params, "step")


@node(
    "IO::ImportIGES",
    outputs=_IMPORT_OUTPUTS,
    params=[_filepath_read()],
    description="Import an IGES file; solids come back as solids, loose faces are sewn where they close.",
)
def import_iges(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return _import(ctx, params, "iges")


@node(
    "IO::ImportSTL",
    outputs=_IMPORT_OUTPUTS,
    params=[_filepath_read()],
    description="Import an STL mesh as planar triangular faces; a closed mesh is sewn into a solid.",
)
def import_stl(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return _import(ctx, params, "stl")


@node(
    "IO::ImportBREP",
    outputs=_IMPORT_OUTPUTS,
    params=[_filepath_read()],
    description="Import an OCCT BREP file (exact geometry, no names or colours).",
)
def import_brep(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return _import(ctx, params, "brep")


def _export(ctx: NodeContext, items: Any, params: dict[str, Any], fmt: str, **options: Any) -> dict[str, Any]:
    path = ctx.resolve_path("filepath", params["filepath"], for_writing=True)
    written = exchange.export_shape(items, path, fmt, units=ctx.units, ctx=ctx, **options)
    return {"success": True, "path": str(written)}


@node(
    "IO::ExportSTEP",
    inputs=[_SHAPES_INPUT],
    outputs=_EXPORT_OUTPUTS,
    params=[
        _filepath_write("output.step"),
        ParamSpec(
            "asAssembly",
            "boolean",
            default=False,
            label="As Assembly",
            help="write one assembly component per input; Parts with a name or colour are always written this way",
        ),
    ],
    side_effects=True,
    description="Export shapes to a STEP (AP214) file, with part names and colours.",
)
def export_step(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return _export(ctx, inputs["shapes"], params, "step", as_assembly=params["asAssembly"])


@node(
    "IO::ExportSTL",
    inputs=[InputSpec("shape", "Shape", keep_parts=True, help="shape to tessellate and write")],
    outputs=_EXPORT_OUTPUTS,
    params=[
        _filepath_write("output.stl"),
        ParamSpec(
            "binary", "boolean", default=True, label="Binary Format", help="binary STL (small) or ASCII STL (readable)"
        ),
        _deflection(),
        _angular_deflection(),
    ],
    side_effects=True,
    description="Export a shape to an STL mesh file.",
)
def export_stl(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return _export(
        ctx,
        inputs["shape"],
        params,
        "stl",
        tolerance=params["deflection"],
        angular_tolerance=params["angularDeflection"],
        ascii=not params["binary"],
    )


@node(
    "IO::ExportGLTF",
    inputs=[_SHAPES_INPUT],
    outputs=_EXPORT_OUTPUTS,
    params=[
        _filepath_write("output.glb"),
        ParamSpec(
            "binary",
            "boolean",
            default=None,
            optional=True,
            label="Binary (GLB)",
            help="true: one .glb file; false: .gltf text plus a .bin buffer; empty: decided by the extension",
        ),
        _deflection(),
        _angular_deflection(),
    ],
    side_effects=True,
    description="Export shapes to glTF 2.0 / GLB (metres, +Y up) with part names and colours.",
)
def export_gltf(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    binary = params["binary"]
    if binary is None:
        binary = not str(params["filepath"]).lower().endswith(".gltf")
    return _export(
        ctx,
        inputs["shapes"],
        params,
        "glb" if binary else "gltf",
        tolerance=params["deflection"],
        angular_tolerance=params["angularDeflection"],
        binary=binary,
    )


@node(
    "IO::Export3MF",
    inputs=[_SHAPES_INPUT],
    outputs=_EXPORT_OUTPUTS,
    params=[_filepath_write("output.3mf"), _deflection(), _angular_deflection()],
    side_effects=True,
    description="Export shapes to a 3MF file (one mesh object per part, with names and colours).",
)
def export_3mf(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return _export(
        ctx,
        inputs["shapes"],
        params,
        "3mf",
        tolerance=params["deflection"],
        angular_tolerance=params["angularDeflection"],
    )


@node(
    "IO::ExportBREP",
    inputs=[_SHAPES_INPUT],
    outputs=_EXPORT_OUTPUTS,
    params=[_filepath_write("output.brep")],
    side_effects=True,
    description="Export shapes to an OCCT BREP file (exact geometry, no names or colours).",
)
def export_brep(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return _export(ctx, inputs["shapes"], params, "brep")


@node(
    "IO::ExportIGES",
    inputs=[_SHAPES_INPUT],
    outputs=_EXPORT_OUTPUTS,
    params=[_filepath_write("output.iges")],
    side_effects=True,
    description="Export shapes to IGES 5.3 (solids as BRep entities), with colours.",
)
def export_iges(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return _export(ctx, inputs["shapes"], params, "iges")
