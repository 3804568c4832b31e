#!/usr/bin/env bash
# The whole test suite: set-up, lint, type check, then pytest (which includes the MicroPython
# run of the core, mpy-cross, and interop tests against libcoap and the embedded server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
python3 -m ruff check lwm2m_client tests bench examples
python3 -m mypy lwm2m_client
python3 -m pytest -q "$@"
