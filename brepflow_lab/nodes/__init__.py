"""Node specs and the catalogue. ``catalogue`` holds every registered node type."""

from brepflow_lab.nodes.registry import ENTRY_POINT_GROUP, Registry, catalogue, node
from brepflow_lab.nodes.spec import InputSpec, NodeContext, NodeSpec, OutputSpec, ParamSpec

__all__ = [
    "ENTRY_POINT_GROUP",
    "InputSpec",
    "NodeContext",
    "NodeSpec",
    "OutputSpec",
    "ParamSpec",
    "Registry",
    "catalogue",
    "node",
]
