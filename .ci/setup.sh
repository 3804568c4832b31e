#!/usr/bin/env bash
# Installs everything lwm2m_client's demo and test suite need on a fresh Debian machine:
# the package itself with its test/dev extras (PyPI), libcoap's command-line peers (Debian
# libcoap3-bin) and the MicroPython WebAssembly port (npm) that runs the core's tests.
set -euo pipefail
cd "$(dirname "$0")/.."

MP_NPM_PACKAGE="@micropython/micropython-webassembly-pyscript@1.27.0"

python3 -m pip install --quiet --disable-pip-version-check -e '.[dev]'

if ! command -v coap-client-notls >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        sudo_cmd=""
        [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
        $sudo_cmd apt-get update -qq
        $sudo_cmd apt-get install -y -qq libcoap3-bin >/dev/null
    else
        echo "setup: libcoap3-bin not installed and no apt-get; interop tests will skip" >&2
    fi
fi

if command -v npm >/dev/null 2>&1; then
    if [ ! -f .mp/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs ]; then
        npm install --silent --no-audit --no-fund --prefix .mp "$MP_NPM_PACKAGE" >/dev/null
    fi
else
    echo "setup: npm not found; MicroPython tests will skip" >&2
fi
