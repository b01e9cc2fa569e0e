#!/bin/sh
# The Node clients of issue 13 (jsonld.js 8, Comunica 4) against a running server:
#   peerchange serve &            # in another shell
#   sh bench/clients/node-clients.sh [BASE_URL]   # default http://127.0.0.1:8000
# Not in the test suite: installing them costs about 2 minutes and 120 MB of npm packages
# (Comunica alone: 95 s, 102 MB; jsonld.js: 40 s, 15 MB, measured on the development
# machine), more than the checks are worth on every CI run. Needs node >= 18 and npm.
# The packages go to $NODE_CLIENTS_DIR (default: a cache folder), installed once.
set -eu
base="${1:-http://127.0.0.1:8000}"
here="$(cd "$(dirname "$0")" && pwd)"
dir="${NODE_CLIENTS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/peerchange/node-clients}"
mkdir -p "$dir"
if [ ! -d "$dir/node_modules/@comunica/query-sparql" ] || [ ! -d "$dir/node_modules/jsonld" ]; then
    echo "node-clients.sh: installing jsonld@8 and @comunica/query-sparql@4 into $dir" >&2
    (cd "$dir" && npm init -y >/dev/null && npm pkg set type=module >/dev/null &&
        npm install --silent --no-audit --no-fund jsonld@8 @comunica/query-sparql@4)
fi
cp "$here/check.mjs" "$dir/check.mjs"
exec node "$dir/check.mjs" "$base"
