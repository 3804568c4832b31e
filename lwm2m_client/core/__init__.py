"""Sans-IO LwM2M protocol core.

Rules for everything below this package (DESIGN.md section 3): no I/O, no clock, no
global randomness, and only the MicroPython-safe subset of Python (no dataclasses,
enum, typing at run time, re, json, logging; no ``raise ... from``).
"""
