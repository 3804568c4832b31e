from typing import Any, ClassVar, Mapping, Sequence

from lwm2m_client.core._typing import ExecArgs, ResourceValue
from lwm2m_client.core.dm.model import obj as obj
from lwm2m_client.core.dm.model import resource as resource
from lwm2m_client.core.dm.tree import ObjectTree

__all__ = ("Instance", "attach", "obj", "resource")

class Instance:
    reads: ClassVar[Sequence[int]]
    executes: ClassVar[Sequence[int]]
    cache: ClassVar[bool]
    # Set by attach().
    tree: ObjectTree | None
    oid: int | None
    iid: int | None
    def read(self, rid: int) -> ResourceValue: ...
    def check(self, rid: int, value: Any) -> None: ...
    def write(self, rid: int, value: Any) -> None: ...
    def execute(self, rid: int, args: ExecArgs) -> None: ...
    def changed(self, rid: int) -> None: ...

def attach(tree: ObjectTree, oid: int, iid: int | None, instance: Instance,
           values: Mapping[int, ResourceValue] | None = None) -> int: ...
