# Checks shared by the tests/mp/mp_*.py scripts (plain Python: they run under MicroPython).


def raises(exc, fn, *args, **kwargs):
    """Call ``fn``; return the exception if it is an ``exc``, fail the test otherwise."""
    try:
        fn(*args, **kwargs)
    except exc as e:
        return e
    raise AssertionError("%r did not raise %r" % (fn, exc))
