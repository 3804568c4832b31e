"""A bounded set of changed paths, drained by the engine to drive notifications.

The tree records every path whose value changed (application ``set``, server Write,
Create, Delete) so the engine can later decide which observations to notify
(LwM2M Core 1.1 section 6.4.2). The set never grows past ``capacity``: when it is
full, the new path is widened to its instance, then to its object, then to the root,
dropping the entries the wider path covers. A wider path means "something under here
changed", which can only cause extra notifications, never missed ones.
"""

from lwm2m_client.core.dm.path import is_prefix


class ChangeLog:
    """Changed paths since the last :meth:`drain`, at most ``capacity`` of them."""

    def __init__(self, capacity=32):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._paths = []

    def __repr__(self):
        return "<ChangeLog %d/%d>" % (len(self._paths), self.capacity)

    def __len__(self):
        return len(self._paths)

    def add(self, path):
        """Record that ``path`` (a tuple) changed."""
        for p in self._paths:
            if is_prefix(p, path):
                return  # already covered by itself or a wider entry
        self._drop_under(path)
        if len(self._paths) >= self.capacity:
            # Widen: instance, object, root. The root covers everything, so the
            # last step always makes room.
            for n in (2, 1, 0):
                if n < len(path):
                    path = path[:n]
                    self._drop_under(path)
                    if len(self._paths) < self.capacity:
                        break
        self._paths.append(path)

    def drain(self):
        """Return the recorded paths in arrival order and start afresh."""
        paths = self._paths
        self._paths = []
        return paths

    def _drop_under(self, prefix):
        self._paths = [p for p in self._paths if not is_prefix(prefix, p)]
