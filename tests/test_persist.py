"""The storage backends of lwm2m_client.persist: round trips, damaged files of every
kind, limits and errors (the crash tests are in test_persist_powerloss.py, the
MicroPython runs in test_persist_micropython.py)."""

from __future__ import annotations

import os
import struct
import tempfile
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_core_rules import violations

from lwm2m_client import persist
from lwm2m_client.core.errors import DecodeError
from lwm2m_client.persist import (
    FileStorage,
    MemoryStorage,
    PersistError,
    SlotStorage,
    Storage,
    crc32,
    crc32_py,
    decode_record,
    encode_record,
)

ROOT = Path(__file__).resolve().parent.parent
FILE_BACKENDS = {"file": FileStorage, "slot": SlotStorage}


def make(kind: str, folder: Path, **kw: object) -> Storage:
    if kind == "memory":
        return MemoryStorage(**kw)  # type: ignore[arg-type]
    return FILE_BACKENDS[kind](str(folder), **kw)  # type: ignore[arg-type]


def record(seq: int, payload: bytes) -> bytes:
    header, trailer = encode_record(seq, payload)
    return header + payload + trailer


# --------------------------------------------------------------------------- the basics


@pytest.mark.parametrize("kind", ["file", "slot", "memory"])
def test_round_trip_overwrite_delete(kind: str, tmp_path: Path) -> None:
    s = make(kind, tmp_path / "store")
    assert s.load("accounts") is None and s.names() == []
    s.save("accounts", b"one")
    assert s.load("accounts") == b"one"
    s.save("accounts", bytearray(b"two"))
    s.save("reg-1", memoryview(b"xyz")[1:])
    s.save("empty_", b"")
    assert s.load("accounts") == b"two" and s.load("reg-1") == b"yz"
    assert s.load("empty_") == b""
    assert type(s.load("reg-1")) is bytes
    assert s.names() == ["accounts", "empty_", "reg-1"]
    for i in range(5):  # many overwrites: slots alternate, the newest always wins
        s.save("accounts", b"v%d" % i)
        assert s.load("accounts") == b"v%d" % i
    s.delete("accounts")
    assert s.load("accounts") is None and s.names() == ["empty_", "reg-1"]
    s.delete("accounts")  # deleting nothing is fine
    s.save("accounts", b"again")
    assert s.load("accounts") == b"again"


@pytest.mark.parametrize("kind", ["file", "slot"])
def test_a_new_storage_object_sees_what_an_earlier_one_saved(kind: str, tmp_path: Path) -> None:
    first = make(kind, tmp_path)
    for i in range(3):
        first.save("reg-1", b"state %d" % i)
    second = make(kind, tmp_path)  # after a restart: nothing in memory
    assert second.load("reg-1") == b"state 2"
    second.save("reg-1", b"state 3")  # goes to the slot not holding state 2
    assert make(kind, tmp_path).load("reg-1") == b"state 3"
    assert sorted(os.listdir(tmp_path)) == ["reg-1.0", "reg-1.1"]  # no temporary file left


def test_files_are_records_in_two_slots(tmp_path: Path) -> None:
    s = FileStorage(str(tmp_path))
    s.save("a", b"first")
    s.save("a", b"second")
    assert (tmp_path / "a.0").read_bytes() == record(1, b"first")
    assert (tmp_path / "a.1").read_bytes() == record(2, b"second")
    s.save("a", b"third")
    assert (tmp_path / "a.0").read_bytes() == record(3, b"third")
    # Both file backends write the same records: either reads the other's folder.
    assert SlotStorage(str(tmp_path)).load("a") == b"third"
    SlotStorage(str(tmp_path)).save("a", b"fourth")
    assert FileStorage(str(tmp_path)).load("a") == b"fourth"


def test_record_format() -> None:
    header, trailer = encode_record(0x01020304, b"hi")
    assert header == b"LwPS\x01\x00\x01\x02\x03\x04\x00\x00\x00\x02"
    assert trailer == struct.pack(">I", zlib.crc32(header + b"hi"))
    assert decode_record(header + b"hi" + trailer) == (0x01020304, b"hi")
    assert decode_record(b"") == "truncated (0 bytes)"
    assert decode_record(b"XXXX" + header[4:] + b"hi" + trailer) == "no record (bad magic)"


@pytest.mark.parametrize("name", ["", "a" * 33, "a.b", "../x", "a/b", "ä", "a b", 5])
@pytest.mark.parametrize("kind", ["file", "slot", "memory"])
def test_bad_names_are_refused(kind: str, name: object, tmp_path: Path) -> None:
    s = make(kind, tmp_path)
    for call in (lambda: s.load(name), lambda: s.save(name, b"x"),  # type: ignore[arg-type]
                 lambda: s.delete(name)):  # type: ignore[arg-type]
        with pytest.raises(PersistError, match="bad record name"):
            call()
    assert os.listdir(tmp_path) == []


def test_longest_name_and_every_allowed_character(tmp_path: Path) -> None:
    s = FileStorage(str(tmp_path))
    s.save("A-z_09" + "x" * 26, b"ok")
    assert s.load("A-z_09" + "x" * 26) == b"ok"


def test_storage_is_an_interface() -> None:
    base = Storage()
    for call in (lambda: base.load("a"), lambda: base.save("a", b""),
                 lambda: base.delete("a"), base.names):
        with pytest.raises(NotImplementedError):
            call()


# ------------------------------------------------------------------------ damaged files


def two_records(kind: str, folder: Path) -> tuple[Path, bytes]:
    """Save A then B; returns B's slot file and B's record bytes."""
    s = make(kind, folder)
    s.save("state", b"A" * 40)
    s.save("state", b"B" * 40)
    newest = folder / "state.1"
    return newest, newest.read_bytes()


def load_after_restart(kind: str, folder: Path) -> tuple[bytes | None, Storage, list[str]]:
    heard: list[str] = []
    s = make(kind, folder, on_corrupt=lambda name, message: heard.append(message))
    return s.load("state"), s, heard


@pytest.mark.parametrize("kind", ["file", "slot"])
def test_every_truncation_of_the_newest_falls_back_to_the_previous(
        kind: str, tmp_path: Path) -> None:
    newest, good = two_records(kind, tmp_path)
    for length in range(len(good)):
        newest.write_bytes(good[:length])
        data, s, heard = load_after_restart(kind, tmp_path)
        assert data == b"A" * 40, length
        assert s.corrupt == ["state.1"] and s.corrupt_count == 1
        assert len(heard) == 1 and "\n" not in heard[0] and str(newest) in heard[0]
    newest.write_bytes(good + b"\x00")  # one byte too many
    data, s, heard = load_after_restart(kind, tmp_path)
    assert data == b"A" * 40 and "does not match" in heard[0]


@pytest.mark.parametrize("kind", ["file", "slot"])
def test_every_changed_byte_of_the_newest_falls_back_to_the_previous(
        kind: str, tmp_path: Path) -> None:
    newest, good = two_records(kind, tmp_path)
    for pos in range(len(good)):
        for mask in (0x01 << (pos % 8), 0xFF):
            bad = bytearray(good)
            bad[pos] ^= mask
            newest.write_bytes(bytes(bad))
            data, s, heard = load_after_restart(kind, tmp_path)
            assert data == b"A" * 40, (pos, mask)
            assert s.corrupt == ["state.1"] and len(heard) == 1


@pytest.mark.parametrize("kind", ["file", "slot"])
def test_damage_is_reported_once_and_a_save_repairs_it(kind: str, tmp_path: Path) -> None:
    newest, good = two_records(kind, tmp_path)
    newest.write_bytes(good[:-1])
    data, s, heard = load_after_restart(kind, tmp_path)
    assert data == b"A" * 40
    assert s.load("state") == b"A" * 40  # found again: not reported again
    assert s.corrupt == ["state.1"] and s.corrupt_count == 1 and len(heard) == 1
    # The next save goes to the damaged slot; the good previous record stays.
    s.save("state", b"C")
    assert newest.read_bytes() == record(2, b"C")
    assert (tmp_path / "state.0").read_bytes() == record(1, b"A" * 40)
    assert s.corrupt == [] and s.corrupt_count == 1
    assert make(kind, tmp_path).load("state") == b"C"


@pytest.mark.parametrize("kind", ["file", "slot"])
def test_both_slots_damaged_loads_nothing(kind: str, tmp_path: Path) -> None:
    newest, good = two_records(kind, tmp_path)
    newest.write_bytes(b"")
    (tmp_path / "state.0").write_bytes(b"garbage, not a record at all")
    data, s, heard = load_after_restart(kind, tmp_path)
    assert data is None
    assert sorted(s.corrupt) == ["state.0", "state.1"] and len(heard) == 2
    s.save("state", b"fresh")
    assert make(kind, tmp_path).load("state") == b"fresh"


@pytest.mark.parametrize("kind", ["file", "slot"])
def test_damage_of_the_older_slot_keeps_the_newest(kind: str, tmp_path: Path) -> None:
    two_records(kind, tmp_path)
    (tmp_path / "state.0").write_bytes(b"\xff" * 7)
    data, s, heard = load_after_restart(kind, tmp_path)
    assert data == b"B" * 40 and s.corrupt == ["state.0"]


def test_the_corrupt_list_is_bounded(tmp_path: Path) -> None:
    for i in range(persist.MAX_CORRUPT_LIST + 5):
        (tmp_path / f"n{i}.0").write_bytes(b"bad")
    s = FileStorage(str(tmp_path))
    for i in range(persist.MAX_CORRUPT_LIST + 5):
        assert s.load(f"n{i}") is None
    assert len(s.corrupt) == persist.MAX_CORRUPT_LIST
    assert s.corrupt_count == persist.MAX_CORRUPT_LIST + 5


def test_a_file_larger_than_max_bytes_allows_is_not_read(tmp_path: Path) -> None:
    FileStorage(str(tmp_path)).save("big", b"x" * 100)
    small = FileStorage(str(tmp_path), max_bytes=99)
    assert small.load("big") is None
    assert small.corrupt == ["big.0"]


def test_sequence_numbers_wrap_around(tmp_path: Path) -> None:
    (tmp_path / "c.0").write_bytes(record(0xFFFFFFFF, b"older"))
    (tmp_path / "c.1").write_bytes(record(0, b"newer"))  # 0 comes after 2**32 - 1
    s = SlotStorage(str(tmp_path))
    assert s.load("c") == b"newer"
    s.save("c", b"newest")
    assert (tmp_path / "c.0").read_bytes() == record(1, b"newest")
    assert s.load("c") == b"newest"


# ------------------------------------------------------------------------ limits, errors


@pytest.mark.parametrize("kind", ["file", "slot", "memory"])
def test_a_record_larger_than_max_bytes_is_refused(kind: str, tmp_path: Path) -> None:
    s = make(kind, tmp_path, max_bytes=100)
    s.save("reg-1", b"x" * 100)
    with pytest.raises(PersistError) as info:
        s.save("reg-1", b"y" * 101)
    message = str(info.value)
    assert "\n" not in message and "'reg-1'" in message and "101 bytes" in message
    assert "max_bytes=100" in message
    if kind != "memory":
        assert str(tmp_path / "reg-1") in message
    assert s.load("reg-1") == b"x" * 100
    assert isinstance(info.value, ValueError)
    with pytest.raises(PersistError, match="more than max_bytes=100"):
        s.save_value("reg-1", {"pad": b"z" * 100})
    assert s.load("reg-1") == b"x" * 100


def test_unusable_folders(tmp_path: Path) -> None:
    a_file = tmp_path / "plain-file"
    a_file.write_text("not a folder")
    for cls in (FileStorage, SlotStorage):
        with pytest.raises(PersistError) as info:
            cls(str(a_file))
        assert str(info.value) == f"persist: {a_file} is not a folder"
        with pytest.raises(PersistError) as info:
            cls(str(a_file / "below"))
        assert "\n" not in str(info.value) and str(a_file / "below") in str(info.value)
        with pytest.raises(PersistError, match="folder .*missing.* is unusable"):
            cls(str(tmp_path / "missing"), create=False)
    made = tmp_path / "made"
    FileStorage(str(made) + "/").save("a", b"1")
    assert (made / "a.0").exists()
    (made / "not.ours.0").write_bytes(b"")
    (made / "other.txt").write_bytes(b"")
    assert FileStorage(str(made)).names() == ["a"]
    with pytest.raises(PersistError, match="no folder given"):
        SlotStorage("")


@pytest.mark.parametrize("kind", ["file", "slot"])
def test_a_folder_gone_after_start_fails_the_save_in_one_line(
        kind: str, tmp_path: Path) -> None:
    folder = tmp_path / "store"
    s = make(kind, folder)
    s.save("a", b"kept")
    for name in os.listdir(folder):
        os.remove(folder / name)
    os.rmdir(folder)
    with pytest.raises(PersistError) as info:
        s.save("a", b"lost")
    message = str(info.value)
    assert message.startswith("persist: cannot write ") and str(folder / "a.") in message
    assert "\n" not in message and "errno 2" in message
    with pytest.raises(PersistError, match="cannot list"):
        s.names()


def test_a_folder_where_a_slot_should_be_is_an_error_not_damage(tmp_path: Path) -> None:
    (tmp_path / "a.0").mkdir()
    s = SlotStorage(str(tmp_path))
    with pytest.raises(PersistError, match="cannot read .*a.0"):
        s.load("a")


def test_save_syncs_the_file_and_the_folder(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    FileStorage(str(tmp_path)).save("a", b"x")
    assert len(synced) == 2  # the temporary file, then the folder after the rename
    SlotStorage(str(tmp_path)).save("b", b"x")
    assert len(synced) == 3


def test_save_without_fsync_and_without_replace(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """As on MicroPython with FatFs: no os.fsync, no os.replace, and a rename that
    refuses to overwrite."""
    monkeypatch.delattr(os, "fsync")
    monkeypatch.delattr(os, "replace")
    real_rename = os.rename

    def fat_rename(src: str, dst: str) -> None:
        if os.path.exists(dst):
            raise FileExistsError(17, "File exists")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", fat_rename)
    s = FileStorage(str(tmp_path))
    for i in range(4):
        s.save("a", b"%d" % i)
    assert FileStorage(str(tmp_path)).load("a") == b"3"
    assert sorted(os.listdir(tmp_path)) == ["a.0", "a.1"]


def test_delete_removes_the_older_slot_first(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    s = FileStorage(str(tmp_path))
    for i in range(3):  # the newest (3rd) is in slot 0
        s.save("a", b"%d" % i)
    removed: list[str] = []

    def remove_then_die(path: str) -> None:
        removed.append(os.path.basename(path))
        if len(removed) == 2:
            raise PermissionError(13, "Permission denied")  # a crash after the first
        os.unlink(path)

    monkeypatch.setattr(os, "remove", remove_then_die)
    with pytest.raises(PersistError, match="cannot delete"):
        FileStorage(str(tmp_path)).delete("a")
    assert removed == ["a.1", "a.0"]
    monkeypatch.undo()
    assert FileStorage(str(tmp_path)).load("a") == b"2"  # the newest, never an older one


# -------------------------------------------------------------------------------- values


@pytest.mark.parametrize("kind", ["file", "slot", "memory"])
def test_values(kind: str, tmp_path: Path) -> None:
    s = make(kind, tmp_path)
    assert s.load_value("state") is None and s.load_value("state", {}) == {}
    value = {"k": 7, "big": -(1 << 80), "servers": [{1: "coap://a", 2: 3.25}], "z": None}
    s.save_value("state", value)
    assert s.load_value("state") == value
    s.save("state", b"\xff\xff")  # a valid record that is no valid encoding
    with pytest.raises(DecodeError):
        s.load_value("state")


# -------------------------------------------------------------------------------- CRC-32


@given(st.binary(max_size=300), st.integers(0, 0xFFFFFFFF))
def test_crc32_matches_zlib(data: bytes, start: int) -> None:
    assert crc32_py(data) == zlib.crc32(data) == crc32(data)
    assert crc32_py(data, start) == zlib.crc32(data, start) == crc32(data, start)


def test_storage_works_with_the_python_crc32(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(persist, "_crc32_native", None)
    newest, good = two_records("slot", tmp_path)
    newest.write_bytes(good[:-2] + bytes([good[-2] ^ 4, good[-1]]))
    assert load_after_restart("slot", tmp_path)[0] == b"A" * 40


# ------------------------------------------------------------------- a model of behaviour

OPS = st.lists(st.tuples(st.sampled_from(["save", "delete", "load", "restart"]),
                         st.sampled_from(["a", "b-1"]), st.binary(max_size=40)),
               max_size=25)


@settings(max_examples=60)
@given(OPS, st.sampled_from(sorted(FILE_BACKENDS)))
def test_file_backends_behave_like_a_dict(ops: list[tuple[str, str, bytes]], kind: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        s = make(kind, folder)
        model: dict[str, bytes] = {}
        for op, name, data in ops:
            if op == "save":
                s.save(name, data)
                model[name] = data
            elif op == "delete":
                s.delete(name)
                model.pop(name, None)
            elif op == "restart":
                s = make(kind, folder)
            assert s.load(name) == model.get(name)
        assert s.names() == sorted(model)
        assert s.corrupt == []


# ------------------------------------------------------------------------ MicroPython code

def test_persist_module_stays_in_the_micropython_subset() -> None:
    """The core's rules (tests/test_core_rules.py) apply, except that it does I/O."""
    source = (ROOT / "lwm2m_client" / "persist.py").read_text(encoding="utf-8")
    problems = [p for p in violations(source) if "import of 'os'" not in p]
    assert problems == []
