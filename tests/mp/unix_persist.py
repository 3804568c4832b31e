# The storage backends of lwm2m_client.persist on a real file system under MicroPython
# (not one of the mp_*.py scripts: those run where the WebAssembly driver copies only the
# core). tests/test_persist_micropython.py runs it under every unix build, the frozen one
# included, under the WebAssembly port (its in-memory file system) and under CPython:
#
#   micropython tests/mp/unix_persist.py WORK_FOLDER
#
# or main(WORK_FOLDER) from an interpreter. One line per test, "PASS name" or
# "FAIL name: error" (with the traceback on the lines after it, indented), then
# "PERSIST-DONE <passed> <failed> <where lwm2m_client.persist came from>"; or one line
# "PERSIST-SKIP <reason>" when the interpreter has no usable file system.
import os
import sys

from mpcheck import raises

import lwm2m_client.persist as persist
from lwm2m_client.persist import (
    FileStorage,
    MemoryStorage,
    PersistError,
    SlotStorage,
    crc32,
    crc32_py,
    encode_record,
)

WORK = ["/tmp/lwm2m-persist"]  # set by main()
BACKENDS = (FileStorage, SlotStorage)


def _rmtree(path):
    try:
        mode = os.stat(path)[0]
    except OSError:
        return
    if mode & 0o170000 == 0o040000:
        for entry in os.listdir(path):
            _rmtree(path + "/" + entry)
        os.rmdir(path)
    else:
        os.remove(path)


def _fresh(name):
    path = WORK[0] + "/" + name
    _rmtree(path)
    return path


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def test_round_trip_overwrite_delete():
    for cls in BACKENDS:
        folder = _fresh("basic-" + cls.__name__)
        s = cls(folder)
        assert s.load("accounts") is None and s.names() == []
        s.save("accounts", b"one")
        s.save("accounts", bytearray(b"two"))
        s.save("reg-1", memoryview(b"xyz")[1:])
        assert s.load("accounts") == b"two" and s.load("reg-1") == b"yz"
        for i in range(6):
            s.save("accounts", b"v" + str(i).encode())
            assert s.load("accounts") == b"v" + str(i).encode()
        assert s.names() == ["accounts", "reg-1"]
        s.delete("accounts")
        assert s.load("accounts") is None and s.names() == ["reg-1"]
        s.delete("accounts")
        # After a restart (a new object), the newest record is found.
        s.save("reg-1", b"last")
        assert cls(folder).load("reg-1") == b"last"
        assert sorted(os.listdir(folder)) == ["reg-1.0", "reg-1.1"]


def test_memory_storage():
    s = MemoryStorage(max_bytes=10)
    s.save("a", b"0123456789")
    assert s.load("a") == b"0123456789" and s.names() == ["a"]
    raises(PersistError, s.save, "a", b"01234567890")
    s.delete("a")
    assert s.load("a") is None


def test_record_format_and_crc():
    header, trailer = encode_record(0x01020304, b"hi")
    assert header == b"LwPS\x01\x00\x01\x02\x03\x04\x00\x00\x00\x02"
    assert crc32(b"123456789") == 0xCBF43926 == crc32_py(b"123456789")  # the check value
    assert crc32(b"789", crc32(b"123456")) == 0xCBF43926
    assert crc32_py(b"789", crc32_py(b"123456")) == 0xCBF43926


def _two_records(cls, name):
    folder = _fresh(name)
    s = cls(folder)
    s.save("state", b"A" * 30)
    s.save("state", b"B" * 30)
    newest = folder + "/state.1"
    return folder, newest, _read(newest)


def test_every_truncation_falls_back_to_the_previous_record():
    for cls in BACKENDS:
        folder, newest, good = _two_records(cls, "trunc-" + cls.__name__)
        for length in range(len(good)):
            _write(newest, good[:length])
            heard = []
            s = cls(folder, on_corrupt=lambda name, message, heard=heard: heard.append(message))
            assert s.load("state") == b"A" * 30, length
            assert s.corrupt == ["state.1"] and len(heard) == 1 and newest in heard[0]


def test_every_changed_byte_falls_back_to_the_previous_record():
    for cls in BACKENDS:
        folder, newest, good = _two_records(cls, "flip-" + cls.__name__)
        for pos in range(len(good)):
            bad = bytearray(good)
            bad[pos] ^= 1 << (pos % 8)
            _write(newest, bad)
            s = cls(folder)
            assert s.load("state") == b"A" * 30, pos
            assert s.corrupt_count == 1


def test_a_save_after_damage_repairs_the_damaged_slot():
    for cls in BACKENDS:
        folder, newest, good = _two_records(cls, "repair-" + cls.__name__)
        _write(newest, good[:-1])
        s = cls(folder)
        assert s.load("state") == b"A" * 30 and s.corrupt == ["state.1"]
        s.save("state", b"C")
        assert s.corrupt == [] and _read(folder + "/state.0")[14:44] == b"A" * 30
        assert cls(folder).load("state") == b"C"
        _write(folder + "/state.0", b"")
        _write(newest, b"junk")
        s = cls(folder)
        assert s.load("state") is None and sorted(s.corrupt) == ["state.0", "state.1"]


def test_backends_read_each_others_records():
    folder = _fresh("cross")
    FileStorage(folder).save("x", b"1")
    assert SlotStorage(folder).load("x") == b"1"
    SlotStorage(folder).save("x", b"2")
    assert FileStorage(folder).load("x") == b"2"


def test_limits_and_errors():
    for cls in BACKENDS:
        folder = _fresh("limits-" + cls.__name__)
        s = cls(folder, max_bytes=64)
        s.save("a", b"x" * 64)
        e = raises(PersistError, s.save, "a", b"x" * 65)
        assert "'a' is 65 bytes" in str(e) and folder + "/a" in str(e), str(e)
        assert "\n" not in str(e)
        assert s.load("a") == b"x" * 64
        raises(PersistError, s.save_value, "a", {"pad": b"y" * 64})
        for bad in ("", "a.b", "x" * 33, "a/b"):
            raises(PersistError, s.save, bad, b"")
        plain = folder + "/plain"
        _write(plain, b"not a folder")
        e = raises(PersistError, cls, plain)
        assert str(e) == "persist: %s is not a folder" % plain, str(e)
        e = raises(PersistError, cls, plain + "/below")
        assert (plain + "/below") in str(e) and "\n" not in str(e), str(e)
        raises(PersistError, cls, folder + "/missing", create=False)


def test_values():
    for cls in BACKENDS + (MemoryStorage,):
        s = cls(_fresh("values-" + cls.__name__)) if cls is not MemoryStorage else cls()
        assert s.load_value("state", 7) == 7
        value = {"k": 12, "big": -(1 << 70), "l": [1.5, None, True, b"\x00"], 3: "x"}
        s.save_value("state", value)
        assert s.load_value("state") == value


def test_sequence_numbers_wrap_around():
    folder = _fresh("wrap")
    os.mkdir(folder)
    for slot, seq, payload in ((0, 0xFFFFFFFF, b"older"), (1, 0, b"newer")):
        header, trailer = encode_record(seq, payload)
        _write("%s/c.%d" % (folder, slot), header + payload + trailer)
    s = SlotStorage(folder)
    assert s.load("c") == b"newer"
    s.save("c", b"newest")
    assert _read(folder + "/c.0")[6:10] == b"\x00\x00\x00\x01"
    assert SlotStorage(folder).load("c") == b"newest"


def _tests():
    return [(name, fn) for name, fn in sorted(globals().items())
            if name.startswith("test_") and callable(fn)]


def _fs_problem():
    """Why this interpreter cannot run the tests, or None."""
    try:
        _rmtree(WORK[0])
        os.mkdir(WORK[0])
        _write(WORK[0] + "/probe.tmp", b"probe")
        os.rename(WORK[0] + "/probe.tmp", WORK[0] + "/probe")
        ok = _read(WORK[0] + "/probe") == b"probe"
        os.remove(WORK[0] + "/probe")
    except (OSError, AttributeError) as e:
        return "no usable file system at %s (%r)" % (WORK[0], e)
    return None if ok else "files do not read back what was written"


def _traceback(e):
    if hasattr(sys, "print_exception"):  # MicroPython
        import io

        buf = io.StringIO()
        sys.print_exception(e, buf)
        return buf.getvalue().rstrip("\n")
    import traceback

    return "".join(traceback.format_exception(e)).rstrip("\n")


def main(folder):
    WORK[0] = folder
    problem = _fs_problem()
    if problem is not None:
        print("PERSIST-SKIP " + problem)
        return 0
    failed = 0
    tests = _tests()
    for name, fn in tests:
        try:
            fn()
            print("PASS " + name)
        except Exception as e:
            failed += 1
            print("FAIL %s: %r" % (name, e))
            for line in _traceback(e).split("\n"):
                print("  | " + line)
    _rmtree(folder)
    print("PERSIST-DONE %d %d %s" % (len(tests) - failed, failed, persist.__file__))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else WORK[0]))
