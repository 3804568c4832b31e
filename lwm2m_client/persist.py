"""Crash-safe storage of small named records, for CPython and MicroPython.

A meter must come back after a power cut exactly where it was. This module stores
*records*: up to ``max_bytes`` of bytes under a short ASCII name ("accounts", "reg-1").
What goes into them is decided elsewhere; :meth:`Storage.save_value` and
:meth:`Storage.load_value` add the plain-data codec of
:mod:`lwm2m_client.core.statecodec` (CBOR) for convenience.

Backends, all with ``load(name) -> bytes or None``, ``save(name, data)``,
``delete(name)`` and ``names()``:

- :class:`FileStorage` for file systems with an atomic rename (POSIX, littlefs);
- :class:`SlotStorage` for flash file systems without a reliable rename (FAT on a
  microcontroller): records are written in place;
- :class:`MemoryStorage` for tests.

**Record format** (big-endian), the same for both file backends::

    offset  size
    0       4     magic b"LwPS"
    4       1     format version, 1
    5       1     flags, 0 (reserved)
    6       4     sequence number (u32; which of two is newer: RFC 1982 serial arithmetic)
    10      4     payload length n
    14      n     payload
    14+n    4     CRC-32 (the zlib/binascii one) of bytes 0 to 14+n

A file passes only when its size is exactly ``18 + n``, the magic and version match and
the CRC agrees: a torn, truncated, extended or bit-flipped record is refused, and a
record never counts as half of anything.

**Two slots per name, in both file backends.** Each name has the files ``<name>.0`` and
``<name>.1``. :meth:`~FileStorage.save` writes the slot that does *not* hold the newest
valid record, with the next sequence number; :meth:`~FileStorage.load` reads both and
returns the valid record with the highest sequence number. So the newest complete record
is never touched while a new one is written, and whatever instant a crash hits, a load
finds either the old record or the new one, never a mix, and never a record older than
the last save that returned. The other slot doubles as the previous generation: when
the newest record is damaged later (a bad flash page), load falls back to it and
reports the damage. :class:`FileStorage` additionally writes the new record to
``<name>.tmp``, flushes and fsyncs it (``os.fsync`` where it exists; on MicroPython the
flush syncs) and renames it over the target slot, so even that slot changes atomically
from one complete record to another; :class:`SlotStorage` writes the slot in place and
relies on the checksum. One scheme instead of "current file plus ``name.1`` backup"
because it needs one rename per save instead of two, has no moment where the current
file is missing, keeps a counter from going back by construction (the rotation of a
backup scheme has to know whether the current file is good before it moves it, which
is this same bookkeeping), and gives both backends one read path to test. Where a
rename cannot replace a file (FatFs), the older slot is removed first: still safe,
since it is not the newest record.

**Damage** found by a load is reported, once per damaged file until a save rewrites
it: the file name goes into :attr:`~FileStorage.corrupt` (bounded), the count
:attr:`~FileStorage.corrupt_count` grows and the optional callback
``on_corrupt(name, message)`` is called, e.g. with a logger's ``warning`` on CPython
(this module does not import logging). Load itself never raises for a damaged file.

**Errors**: :class:`PersistError` (a ``ValueError``) with a one-line message naming the
file, for a record larger than ``max_bytes``, a bad name, an unusable folder or a
write the operating system refuses (disk full, read-only).

One writer per folder: a storage object remembers which slot holds each name's newest
record. Runs unchanged on MicroPython (plain files, ``os.stat``/``rename``/``remove``/
``listdir``, ``binascii.crc32`` when the port has it, else a table-driven CRC-32 here);
it is not in the core because it does I/O, and ships in the ``mp`` part of the
MicroPython packages. Import it as ``from lwm2m_client.persist import FileStorage``:
on MicroPython ``from lwm2m_client import persist`` asks the package's ``__getattr__``,
which knows only the API names.
"""

# MicroPython code like the core (DESIGN.md section 3.7): %-formatting, no "raise ... from".
# ruff: noqa: UP031, B904

import os
import struct

try:
    import binascii

    _crc32_native = getattr(binascii, "crc32", None)
except ImportError:  # a port built without binascii
    _crc32_native = None

MAGIC = b"LwPS"
VERSION = 1
HEADER = 14  # magic, version, flags, sequence number, length
TRAILER = 4  # CRC-32
OVERHEAD = HEADER + TRAILER
DEFAULT_MAX_BYTES = 8192
MAX_NAME = 32
MAX_CORRUPT_LIST = 16
NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

_S_IFMT = 0o170000
_S_IFDIR = 0o040000
_SEQ_MASK = 0xFFFFFFFF


class PersistError(ValueError):
    """A record or folder that cannot be used; the message (one line) names the file."""


# ----------------------------------------------------------------------------- CRC-32

_table = None


def _crc32_table():
    global _table
    if _table is None:
        table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
            table.append(c)
        _table = table
    return _table


def crc32_py(data, crc=0):
    """CRC-32 (IEEE 802.3, reflected, as zlib) in Python, for ports without
    ``binascii.crc32``; ``crc`` continues an earlier result."""
    table = _crc32_table()
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc32(data, crc=0):
    """CRC-32 of ``data`` (continuing ``crc``) as an unsigned 32-bit int."""
    if _crc32_native is not None:
        return _crc32_native(data, crc) & 0xFFFFFFFF
    return crc32_py(data, crc)


# ------------------------------------------------------------------------------ helpers


def check_name(name):
    """Raise :class:`PersistError` unless ``name`` is 1 to 32 of A-Z a-z 0-9 - _."""
    if type(name) is not str or not 0 < len(name) <= MAX_NAME:
        raise PersistError("persist: bad record name %r (1 to %d characters)" % (name, MAX_NAME))
    for c in name:
        if c not in NAME_CHARS:
            raise PersistError("persist: bad record name %r (only A-Z a-z 0-9 - _)" % name)


def _why(exc):
    """An OSError as one short line on CPython and MicroPython alike."""
    args = exc.args
    code = args[0] if args else None
    text = getattr(exc, "strerror", None)
    if type(code) is int:
        return "errno %d: %s" % (code, text) if text else "errno %d" % code
    return " ".join(str(exc).split())


def _split(path):
    i = path.rfind("/")
    return (path[:i] or "/", path[i + 1:]) if i >= 0 else (".", path)


def _missing(path):
    """After an OSError on ``path``: is the file simply not there? Decided by listing
    its folder, not by the error number: that differs between ports (the WebAssembly
    port reports Emscripten's 44 while its errno module says ENOENT is 2)."""
    folder, entry = _split(path)
    try:
        return entry not in os.listdir(folder)
    except OSError:
        return False  # no folder to list: an error worth reporting


def _newer(a, b):
    """Sequence number ``a`` comes after ``b`` (RFC 1982 serial arithmetic, 32 bits)."""
    d = (a - b) & _SEQ_MASK
    return 0 < d < 0x80000000


def encode_record(seq, data):
    """The header and the trailer that frame ``data`` as record number ``seq``."""
    header = MAGIC + struct.pack(">BBII", VERSION, 0, seq & _SEQ_MASK, len(data))
    return header, struct.pack(">I", crc32(data, crc32(header)))


def decode_record(data):
    """``(seq, payload)`` of a complete record, or a text saying what is wrong with it."""
    n = len(data)
    if n < OVERHEAD:
        return "truncated (%d bytes)" % n
    if bytes(data[0:4]) != MAGIC:
        return "no record (bad magic)"
    if data[4] != VERSION:
        return "unknown record format version %d" % data[4]
    seq, length = struct.unpack_from(">II", data, 6)
    if length != n - OVERHEAD:
        return "length %d does not match the file's %d bytes" % (length, n)
    crc = struct.unpack_from(">I", data, n - TRAILER)[0]
    if crc32(memoryview(data)[:n - TRAILER]) != crc:
        return "checksum mismatch"
    return seq, bytes(data[HEADER:n - TRAILER])


def _fsync(f):
    # os.fsync exists on CPython; MicroPython's VFS syncs a file when it is flushed.
    if hasattr(os, "fsync"):
        os.fsync(f.fileno())


def _sync_folder(folder):
    """Make a rename durable: fsync the folder where the OS allows it (POSIX CPython)."""
    if not hasattr(os, "fsync") or not hasattr(os, "open") or not hasattr(os, "O_RDONLY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder: its rename is already durable
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(path):
    """Remove ``path``; a file that is not there is fine."""
    try:
        os.remove(path)
    except OSError:
        if not _missing(path):
            raise


# ------------------------------------------------------------------------------ storage


class Storage:
    """What the client persists through: named records of bytes.

    ``load(name)`` returns the bytes last saved under ``name`` or None;
    ``save(name, data)`` replaces them (all or nothing, even across a crash, for the
    file backends); ``delete(name)`` removes them; ``names()`` lists the stored names.
    """

    max_bytes = DEFAULT_MAX_BYTES
    corrupt = ()
    corrupt_count = 0

    def load(self, name):
        raise NotImplementedError

    def save(self, name, data):
        raise NotImplementedError

    def delete(self, name):
        raise NotImplementedError

    def names(self):
        raise NotImplementedError

    def load_value(self, name, default=None):
        """The plain value saved by :meth:`save_value`, or ``default`` when there is
        none. A record that passes its checksum but is no valid encoding raises
        :class:`~lwm2m_client.core.errors.DecodeError`."""
        data = self.load(name)
        if data is None:
            return default
        from lwm2m_client.core.statecodec import loads

        return loads(data)

    def save_value(self, name, value):
        """Save a plain value (None, bool, int, float, str, bytes, list, tuple, dict with
        int/str keys) encoded by :mod:`lwm2m_client.core.statecodec`."""
        check_name(name)
        from lwm2m_client.core.errors import BufferFull
        from lwm2m_client.core.statecodec import dumps

        try:
            data = dumps(value, self.max_bytes)
        except BufferFull:
            raise PersistError("persist: %r takes more than max_bytes=%d%s"
                               % (name, self.max_bytes, self._where(name)))
        self.save(name, data)

    def _where(self, name):
        return ""

    def _check_size(self, name, data):
        if len(data) > self.max_bytes:
            raise PersistError("persist: %r is %d bytes, more than max_bytes=%d%s"
                               % (name, len(data), self.max_bytes, self._where(name)))


class MemoryStorage(Storage):
    """Records in a dict (``records``): for tests, and a meter without a file system."""

    def __init__(self, max_bytes=DEFAULT_MAX_BYTES):
        self.max_bytes = max_bytes
        self.records = {}

    def load(self, name):
        check_name(name)
        return self.records.get(name)

    def save(self, name, data):
        check_name(name)
        self._check_size(name, data)
        self.records[name] = bytes(data)

    def delete(self, name):
        check_name(name)
        self.records.pop(name, None)

    def names(self):
        return sorted(self.records)

    def __repr__(self):
        return "MemoryStorage(%d records)" % len(self.records)


class _SlotFiles(Storage):
    """The two-slot scheme shared by :class:`FileStorage` and :class:`SlotStorage`;
    they differ in how one slot is written (:meth:`_write`)."""

    def __init__(self, folder, max_bytes=DEFAULT_MAX_BYTES, on_corrupt=None, create=True):
        if not folder:
            raise PersistError("persist: no folder given")
        while len(folder) > 1 and folder.endswith("/"):
            folder = folder[:-1]
        self.folder = folder
        self.max_bytes = max_bytes
        self.on_corrupt = on_corrupt
        # Files found damaged and not rewritten since (names relative to the folder).
        self.corrupt = []
        self.corrupt_count = 0
        # Test hook: called with a step name ("open", "header", "payload", "crc", "sync",
        # "rename") as a save passes it; the power-loss test pauses or dies there.
        self.step_hook = None
        self._prefix = folder if folder.endswith("/") else folder + "/"
        self._newest = {}  # name -> (slot of the newest valid record or -1, its seq)
        self._check_folder(create)

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.folder)

    def _check_folder(self, create):
        try:
            mode = os.stat(self.folder)[0]
        except OSError as e:
            if not create:
                raise PersistError("persist: folder %s is unusable (%s)"
                                   % (self.folder, _why(e)))
            try:
                os.mkdir(self.folder)
            except OSError as e2:
                raise PersistError("persist: cannot make folder %s (%s)"
                                   % (self.folder, _why(e2)))
            return
        if mode & _S_IFMT != _S_IFDIR:
            raise PersistError("persist: %s is not a folder" % self.folder)

    def _where(self, name):
        return " (%s%s.*)" % (self._prefix, name)

    def _step(self, what):
        if self.step_hook is not None:
            self.step_hook(what)

    # -- reading

    def _read(self, name, slot):
        """``(seq, payload)`` of one slot, or None when it is missing or damaged."""
        fname = "%s.%d" % (name, slot)
        path = self._prefix + fname
        try:
            size = os.stat(path)[6]
        except OSError as e:
            if _missing(path):
                return None
            raise PersistError("persist: cannot read %s (%s)" % (path, _why(e)))
        if size > self.max_bytes + OVERHEAD:
            # Not read at all: max_bytes also bounds what a load takes into RAM.
            self._damaged(name, fname, "%d bytes, more than max_bytes=%d allows"
                          % (size, self.max_bytes))
            return None
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise PersistError("persist: cannot read %s (%s)" % (path, _why(e)))
        result = decode_record(data)
        if type(result) is str:
            self._damaged(name, fname, result)
            return None
        return result

    def _scan(self, name):
        """Read both slots; ``(slot, seq, payload)`` of the newest valid record or None.
        Remembers where the newest is, which is where the next save must not write."""
        best = None
        for slot in (0, 1):
            rec = self._read(name, slot)
            if rec is not None and (best is None or _newer(rec[0], best[1])):
                best = (slot, rec[0], rec[1])
        self._newest[name] = (best[0], best[1]) if best is not None else (-1, 0)
        return best

    def _damaged(self, name, fname, reason):
        if fname in self.corrupt:
            return  # reported already
        if len(self.corrupt) >= MAX_CORRUPT_LIST:
            self.corrupt.pop(0)
        self.corrupt.append(fname)
        self.corrupt_count += 1
        if self.on_corrupt is not None:
            self.on_corrupt(name, "persist: damaged record %s%s: %s"
                            % (self._prefix, fname, reason))

    def _forget_damage(self, fname):
        if fname in self.corrupt:
            self.corrupt.remove(fname)

    # -- the interface

    def load(self, name):
        check_name(name)
        best = self._scan(name)
        return None if best is None else best[2]

    def save(self, name, data):
        check_name(name)
        self._check_size(name, data)
        known = self._newest.get(name)
        if known is None:
            self._scan(name)
            known = self._newest[name]
        slot, seq = known
        target = 1 - slot if slot >= 0 else 0
        seq = (seq + 1) & _SEQ_MASK
        header, trailer = encode_record(seq, data)
        self._write(name, target, header, data, trailer)
        self._newest[name] = (target, seq)
        self._forget_damage("%s.%d" % (name, target))

    def delete(self, name):
        check_name(name)
        known = self._newest.get(name)
        if known is None:
            self._scan(name)
            known = self._newest[name]
        slot = known[0]
        # The older slot first: a crash in between leaves the newest record, as if the
        # delete had not begun, never an older one coming back.
        order = (1 - slot, slot) if slot >= 0 else (0, 1)
        self._newest.pop(name, None)
        try:
            for s in order:
                _remove("%s%s.%d" % (self._prefix, name, s))
                self._forget_damage("%s.%d" % (name, s))
            _remove("%s%s.tmp" % (self._prefix, name))
        except OSError as e:
            raise PersistError("persist: cannot delete %s%s.* (%s)"
                               % (self._prefix, name, _why(e)))
        self._newest[name] = (-1, 0)

    def names(self):
        """Names with a slot file in the folder (whether valid or not)."""
        found = set()
        try:
            entries = os.listdir(self.folder)
        except OSError as e:
            raise PersistError("persist: cannot list %s (%s)" % (self.folder, _why(e)))
        for entry in entries:
            if entry.endswith(".0") or entry.endswith(".1"):
                try:
                    check_name(entry[:-2])
                except PersistError:
                    continue  # not one of ours
                found.add(entry[:-2])
        return sorted(found)

    def _write(self, name, slot, header, data, trailer):
        raise NotImplementedError

    def _write_file(self, path, header, data, trailer):
        f = open(path, "wb")
        try:
            self._step("open")
            f.write(header)
            self._step("header")
            f.write(data)
            self._step("payload")
            f.write(trailer)
            self._step("crc")
            f.flush()
            _fsync(f)
            self._step("sync")
        finally:
            f.close()


class FileStorage(_SlotFiles):
    """Records in ``folder`` (made when missing, one level, unless ``create`` is false),
    each save written to ``<name>.tmp``, synced and renamed over the older of the
    slots ``<name>.0``/``<name>.1`` (see the module docstring).

    ``max_bytes`` bounds one record's payload; ``on_corrupt(name, message)`` hears of
    every damaged file a load finds."""

    def _write(self, name, slot, header, data, trailer):
        tmp = "%s%s.tmp" % (self._prefix, name)
        final = "%s%s.%d" % (self._prefix, name, slot)
        try:
            self._write_file(tmp, header, data, trailer)
            _replace(tmp, final)
            self._step("rename")
            _sync_folder(self.folder)
        except OSError as e:
            try:
                _remove(tmp)
            except OSError:
                pass
            raise PersistError("persist: cannot write %s (%s)" % (final, _why(e)))


class SlotStorage(_SlotFiles):
    """Records in ``folder`` for file systems without a reliable rename: each save
    rewrites the older of the slots ``<name>.0``/``<name>.1`` in place; a load takes
    the valid record with the highest sequence number (see the module docstring)."""

    def _write(self, name, slot, header, data, trailer):
        path = "%s%s.%d" % (self._prefix, name, slot)
        try:
            self._write_file(path, header, data, trailer)
        except OSError as e:
            raise PersistError("persist: cannot write %s (%s)" % (path, _why(e)))


def _replace(src, dst):
    replace = getattr(os, "replace", None)  # CPython: replaces on Windows as well
    if replace is not None:
        replace(src, dst)
        return
    try:
        os.rename(src, dst)
    except OSError:
        # FatFs refuses to rename onto an existing file. dst is the older slot, never
        # the newest record, so removing it first keeps the guarantee.
        _remove(dst)
        os.rename(src, dst)
