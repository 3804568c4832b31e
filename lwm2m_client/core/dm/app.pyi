from typing import Any, Mapping, Sequence

from lwm2m_client.core._typing import ExecArgs, ResourceValue
from lwm2m_client.core.dm.model import obj as obj
from lwm2m_client.core.dm.model import resource as resource
from lwm2m_client.core.dm.tree import ObjectTree

__all__ = ("Instance", "attach", "obj", "resource")

class Instance:
    reads: Sequence[int]
    executes: Sequence[int]
    cache: bool
    # Set by attach() (None before it ran; the hooks only run on an attached instance).
    tree: ObjectTree
    oid: int
    iid: int
    def read(self, rid: int) -> ResourceValue: ...
    def check(self, rid: int, value: Any) -> None: ...
    def write(self, rid: int, value: Any) -> None: ...
    def execute(self, rid: int, args: ExecArgs) -> None: ...
    def changed(self, rid: int) -> None: ...

def attach(tree: ObjectTree, oid: int, iid: int | None, instance: Instance,
           values: Mapping[int, ResourceValue] | None = None) -> int: ...
