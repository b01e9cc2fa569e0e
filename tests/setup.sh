#!/bin/sh
# Install everything the test suite needs, then nothing else:
#   - Debian packages: a Java runtime (HermiT, the OWL reasoner, runs in Java); Chromium
#     and a font for the browser tests (Playwright drives the system chromium: it cannot
#     download its own browser builds here, so "playwright install" is never run); the
#     Redland clients rapper and roqet (raptor2-utils, rasqal-utils: about 1.5 MB, a few
#     seconds) for tests/clients/test_debian_clients.py; Virtuoso (virtuoso-opensource),
#     the remote SPARQL store the tests start on loopback with an ini of their own
#     (tests/virtuoso.py), and the benchmark's peer;
#   - Python packages: this project with its "test" extra, into the current Python
#     (activate a virtual environment first, as the README shows).
# Safe to run again: it installs only what is missing.
set -eu

need_apt=""
command -v java >/dev/null 2>&1 || need_apt="$need_apt default-jre-headless"
command -v chromium >/dev/null 2>&1 || need_apt="$need_apt chromium"
command -v rapper >/dev/null 2>&1 || need_apt="$need_apt raptor2-utils"
command -v roqet >/dev/null 2>&1 || need_apt="$need_apt rasqal-utils"
command -v virtuoso-t >/dev/null 2>&1 || need_apt="$need_apt virtuoso-opensource"
if command -v dpkg >/dev/null 2>&1; then
    dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need_apt="$need_apt fonts-dejavu-core"
fi

if [ -n "$need_apt" ]; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        echo "tests/setup.sh: installing Debian packages:$need_apt" >&2
        $SUDO apt-get update -qq
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need_apt
    else
        echo "tests/setup.sh: no apt-get here; install yourself:$need_apt (tests that need them will skip)" >&2
    fi
fi

python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[test]"
echo "tests/setup.sh: ready; run: python -m pytest" >&2
