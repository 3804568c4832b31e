#!/usr/bin/env bash
# Installs everything lwm2m_client's demo and test suite need on a fresh Debian machine:
# the package itself with its test/dev extras (PyPI), libcoap's command-line peers (Debian
# libcoap3-bin), the MicroPython WebAssembly port (npm) that runs the core's tests, and
# MicroPython unix builds made from ../shared/micropython (see build_micropython_unix below).
set -euo pipefail
cd "$(dirname "$0")/.."

MP_NPM_PACKAGE="@micropython/micropython-webassembly-pyscript@1.27.0"

python3 -m pip install --quiet --disable-pip-version-check -e '.[dev]'

apt_updated=""
# apt_install PACKAGE... : installs Debian packages; returns 1 when there is no apt-get.
apt_install() {
    command -v apt-get >/dev/null 2>&1 || return 1
    local sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    if [ -z "$apt_updated" ]; then
        $sudo_cmd apt-get update -qq
        apt_updated=1
    fi
    $sudo_cmd apt-get install -y -qq "$@" >/dev/null
}

if ! command -v coap-client-notls >/dev/null 2>&1; then
    apt_install libcoap3-bin ||
        echo "setup: libcoap3-bin not installed and no apt-get; interop tests will skip" >&2
fi

if command -v npm >/dev/null 2>&1; then
    if [ ! -f .mp/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs ]; then
        npm install --silent --no-audit --no-fund --prefix .mp "$MP_NPM_PACKAGE" >/dev/null
    fi
else
    echo "setup: npm not found; MicroPython tests will skip" >&2
fi

# --- MicroPython unix port, built from the shared source tarball -------------------------
#
# .mp/unix/mpy-cross                 mpy-cross of the same source
# .mp/unix/standard/micropython      64-bit, double-precision float
# .mp/unix/std32/micropython         32-bit (like a microcontroller), double-precision float
# .mp/unix/float32/micropython       32-bit, single-precision float (like ESP32, RP2, STM32)
# .mp/unix/frozen/micropython        32-bit with lwm2m_client's device side frozen in
#                                    (.ci/unix_frozen_manifest.py)
#
# A binary that exists is not built again; the frozen one is rebuilt (incrementally) when a
# file it freezes is newer than it. Any failure stops the set-up: CI must not quietly run
# without these builds (tests/test_micropython_unix.py fails when CI=true and they are
# missing).

MP_VERSION="1.28.0"
MP_TARBALL="${LWM2M_MICROPYTHON_TARBALL:-../shared/micropython/micropython-$MP_VERSION-unix-src.tar.gz}"
MP_SRC=".mp/src/micropython-$MP_VERSION"
MP_OUT=".mp/unix"
MP_OPTS=(MICROPY_PY_BTREE=0 MICROPY_PY_SSL=0 MICROPY_SSL_MBEDTLS=0 MICROPY_PY_FFI=0)
# The version the builds report (sys.version, mpy-cross --version). Without these, the
# version script asks git, which finds this project's repository around .mp/src and names
# the build after the project's commit.
export MICROPY_GIT_TAG="v$MP_VERSION" MICROPY_GIT_HASH="e0e9fbb"

fail() {
    echo "setup: $*" >&2
    exit 1
}

# link TARGET NAME : NAME becomes a symlink to TARGET (both relative to the repo root).
link() {
    mkdir -p "$(dirname "$2")"
    ln -sfn "$(realpath --relative-to="$(dirname "$2")" "$1")" "$2"
}

# frozen_inputs_newer_than BINARY : true when a file the frozen build freezes (the files of
# package-*.json, which manifest.py reads) or a manifest is newer than BINARY.
frozen_inputs_newer_than() {
    ! python3 tests/mp/run_unix.py --micropython "$1" --check-frozen-current >/dev/null
}

# build_unix VARIANT MAKE_ARG... : one unix port build in ports/unix/build-VARIANT.
build_unix() {
    local variant="$1"
    shift
    local bin="$MP_SRC/ports/unix/build-$variant/micropython"
    if [ ! -x "$bin" ] || { [ "$variant" = frozen ] && frozen_inputs_newer_than "$bin"; }; then
        echo "setup: building MicroPython unix port, variant $variant" >&2
        local started=$SECONDS
        make -j2 -s -C "$MP_SRC/ports/unix" "${MP_OPTS[@]}" BUILD="build-$variant" "$@" \
            >".mp/build-$variant.log" 2>&1 ||
            { tail -n 40 ".mp/build-$variant.log" >&2; fail "build of unix variant $variant failed"; }
        [ -x "$bin" ] || fail "build of unix variant $variant made no $bin"
        touch "$bin"  # make leaves it alone when the frozen content came out the same
        echo "setup: variant $variant built in $((SECONDS - started)) s" >&2
    fi
    link "$bin" "$MP_OUT/$variant/micropython"
}

build_micropython_unix() {
    if [ ! -f "$MP_TARBALL" ]; then
        [ "${CI:-}" = "true" ] && fail "MicroPython source $MP_TARBALL not found"
        echo "setup: $MP_TARBALL not found; MicroPython unix tests will skip" >&2
        return 0
    fi
    if ! dpkg -s gcc-multilib >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
        # gcc-multilib: the 32-bit builds (-m32); make and gcc for all of them.
        apt_install gcc-multilib make ||
            fail "gcc-multilib and make are needed for the MicroPython unix builds (no apt-get)"
    fi

    if [ ! -f "$MP_SRC/py/mpconfig.h" ]; then
        mkdir -p .mp/src
        rm -rf "$MP_SRC" ".mp/src/.extract"
        mkdir .mp/src/.extract
        tar -xzf "$MP_TARBALL" -C .mp/src/.extract
        mv ".mp/src/.extract/micropython-$MP_VERSION" "$MP_SRC"
        rmdir .mp/src/.extract
    fi

    local mpy_cross="$MP_SRC/mpy-cross/build/mpy-cross"
    if [ ! -x "$mpy_cross" ]; then
        echo "setup: building mpy-cross" >&2
        local started=$SECONDS
        make -j2 -s -C "$MP_SRC/mpy-cross" >.mp/build-mpy-cross.log 2>&1 ||
            { tail -n 40 .mp/build-mpy-cross.log >&2; fail "build of mpy-cross failed"; }
        [ -x "$mpy_cross" ] || fail "build of mpy-cross made no $mpy_cross"
        echo "setup: mpy-cross built in $((SECONDS - started)) s" >&2
    fi
    link "$mpy_cross" "$MP_OUT/mpy-cross"

    build_unix standard
    build_unix std32 MICROPY_FORCE_32BIT=1
    build_unix float32 MICROPY_FORCE_32BIT=1 \
        CFLAGS_EXTRA=-DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT
    build_unix frozen MICROPY_FORCE_32BIT=1 \
        FROZEN_MANIFEST="$PWD/.ci/unix_frozen_manifest.py"

    # The builds are what their names say.
    local check='import sys; print(sys.maxsize > 2**32, 1.0 + 2**-30 == 1.0)'
    local variant expected got
    for variant in standard std32 float32 frozen; do
        case "$variant" in
            standard) expected="True False" ;;
            float32) expected="False True" ;;
            *) expected="False False" ;;
        esac
        got="$("$MP_OUT/$variant/micropython" -c "$check")" ||
            fail "$MP_OUT/$variant/micropython does not run"
        [ "$got" = "$expected" ] ||
            fail "$variant build: (64-bit, 1.0 + 2**-30 == 1.0) is '$got', not '$expected'"
    done
    # From an empty folder with only ".frozen" on the path, only the frozen image can
    # answer. (MICROPYPATH replaces the whole default sys.path, ".frozen" included.)
    local empty frozen_ok=1
    empty="$(mktemp -d)"
    (cd "$empty" && MICROPYPATH=.frozen "$OLDPWD/$MP_OUT/frozen/micropython" \
        -c 'import lwm2m_client.core.errors') || frozen_ok=""
    rmdir "$empty"
    [ -n "$frozen_ok" ] || fail "frozen build has no lwm2m_client"
}

started=$SECONDS
build_micropython_unix
echo "setup: MicroPython unix builds ready in $((SECONDS - started)) s" >&2
