"""The node catalogue: a registry filled by the ``@node`` decorator and by plugins.

Built-in node modules register themselves when imported (:func:`load_builtin`).
Third-party packs are pip-installed packages that declare an entry point in the group
``brepflow_lab.nodes``; the entry point names either a module (importing it runs its
``@node`` decorators) or a callable taking the :class:`Registry`. Plugins load once,
lazily, the first time the catalogue is asked for; a broken plugin is reported as a
warning and never hides the built-in catalogue.
"""

from __future__ import annotations

import importlib
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import entry_points
from typing import Any

from brepflow_lab.nodes.spec import Execute, InputSpec, NodeSpec, OutputSpec, ParamSpec

__all__ = ["ENTRY_POINT_GROUP", "Registry", "catalogue", "node"]

ENTRY_POINT_GROUP = "brepflow_lab.nodes"
_BUILTIN_MODULES = (
    "brepflow_lab.nodes.solid",
    "brepflow_lab.nodes.sketch",
    "brepflow_lab.nodes.boolean",
    "brepflow_lab.nodes.features",
    "brepflow_lab.nodes.transform",
    "brepflow_lab.nodes.io",
    "brepflow_lab.nodes.measure",
)


class Registry:
    def __init__(self) -> None:
        self._specs: dict[str, NodeSpec] = {}
        self._lock = threading.RLock()
        self._loaded = False
        self.plugin_errors: list[str] = []

    def register(self, spec: NodeSpec, *, replace: bool = False) -> NodeSpec:
        with self._lock:
            if spec.type in self._specs and not replace and self._specs[spec.type] is not spec:
                raise ValueError(f"node type '{spec.type}' is already registered by {self._specs[spec.type].source}")
            self._specs[spec.type] = spec
        return spec

    def unregister(self, node_type: str) -> None:
        with self._lock:
            self._specs.pop(node_type, None)

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            if self is not catalogue:
                # Node modules register into the process-wide catalogue when first imported
                # (module-style packs too): a separate registry starts from a copy of it.
                catalogue._ensure_loaded()
                self._specs.update(catalogue._specs)
            else:
                for module in _BUILTIN_MODULES:
                    importlib.import_module(module)
            self._load_plugins()

    def _load_plugins(self) -> None:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                target = ep.load()
                if callable(target):
                    target(self)
            except Exception as exc:  # a broken plugin must not hide the catalogue
                message = f"node pack '{ep.name}' ({ep.value}) failed to load: {exc}"
                self.plugin_errors.append(message)
                warnings.warn(message, RuntimeWarning, stacklevel=2)

    def reload_plugins(self) -> list[str]:
        """Scan the entry-point group again — e.g. after ``pip install``-ing a node pack in a
        running kernel. Returns the node types that became available."""
        importlib.invalidate_caches()
        self._ensure_loaded()
        before = set(self._specs)
        with self._lock:
            self._load_plugins()
        return sorted(set(self._specs) - before)

    def get(self, node_type: str) -> NodeSpec | None:
        self._ensure_loaded()
        return self._specs.get(node_type)

    def __getitem__(self, node_type: str) -> NodeSpec:
        spec = self.get(node_type)
        if spec is None:
            raise KeyError(node_type)
        return spec

    def __contains__(self, node_type: object) -> bool:
        self._ensure_loaded()
        return node_type in self._specs

    def __iter__(self) -> Iterator[NodeSpec]:
        self._ensure_loaded()
        return iter(sorted(self._specs.values(), key=lambda s: s.type))

    def __len__(self) -> int:
        self._ensure_loaded()
        return len(self._specs)

    def types(self) -> list[str]:
        return [s.type for s in self]

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": [s.to_dict() for s in self]}


#: the process-wide catalogue
catalogue = Registry()


def node(
    type: str,
    *,
    inputs: Iterable[InputSpec] = (),
    outputs: Iterable[OutputSpec] = (),
    params: Iterable[ParamSpec] = (),
    version: int = 1,
    label: str = "",
    description: str = "",
    deterministic: bool = True,
    side_effects: bool = False,
    trusted_output: bool = False,
    registry: Registry | None = None,
) -> Callable[[Execute], Execute]:
    """Register ``execute`` as the node type ``type``.

    >>> @node("Demo::Double", inputs=[], outputs=[OutputSpec("value", "Number")],
    ...       params=[ParamSpec("x", default=1.0)])
    ... def double(ctx, inputs, params):
    ...     return {"value": 2 * params["x"]}
    """

    def decorate(fn: Execute) -> Execute:
        module = getattr(fn, "__module__", "") or ""
        spec = NodeSpec(
            type=type,
            execute=fn,
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            params=tuple(params),
            version=version,
            label=label or type.split("::")[-1],
            description=description or (fn.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
            deterministic=deterministic,
            side_effects=side_effects,
            trusted_output=trusted_output,
            source=module.split(".")[0] or "unknown",
        )
        (registry if registry is not None else catalogue).register(spec, replace=True)
        return fn

    return decorate
