# Frozen-module manifest of the "frozen" MicroPython unix build made by .ci/setup.sh:
#   make -C ports/unix FROZEN_MANIFEST=/abs/path/.ci/unix_frozen_manifest.py ...
# The unix port's standard variant manifest (asyncio, mip, ssl wrapper ...) stays in, as on
# a stock build, and the device side of lwm2m_client is added by the repository's
# manifest.py. The example meter's application module is frozen as well, as a vendor
# freezes its own firmware: `import mp_meter` then comes from flash (the heap benchmark
# measures a wholly frozen meter; running examples/mp_meter.py as a script still compiles
# the file). Relative paths resolve from this file's folder.
include("$(PORT_DIR)/variants/standard/manifest.py")  # noqa: F821 - MicroPython's manifest tool
include("../manifest.py")  # noqa: F821
module("mp_meter.py", base_path="../examples")  # noqa: F821
