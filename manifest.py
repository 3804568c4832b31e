# Freezes the device side of lwm2m_client into MicroPython firmware:
#   make -C ports/unix FROZEN_MANIFEST=/abs/path/to/manifest.py
# or, from a board's own manifest:  include("/abs/path/to/manifest.py", parts="core,mp")
# The parts and their files are those of package-<part>.json beside this file (written by
# lwm2m_client.mptools.write_packages), so freezing and mip install take the same files.
import json

options.defaults(parts="core,mp,models")  # noqa: F821 - given by MicroPython's manifest tool

for part in options.parts.split(","):  # noqa: F821
    with open("package-%s.json" % part.strip()) as f:
        for dest, _src in json.load(f)["urls"]:
            module(dest, base_path=".")  # noqa: F821
