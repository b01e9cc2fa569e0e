#!/usr/bin/env bash
# Rebuild src/peerchange/web/static/vendor/ (the YASGUI query editor of /sparql) from npm.
#
# Needs node and npm; `pip install .` does not: the built files are committed. Run it after
# changing the pinned version in package.json (`npm install --package-lock-only` first),
# then commit package.json, package-lock.json and static/vendor/.
#
#   src/peerchange/web/assets/build.sh
#
# It installs exactly what package-lock.json pins (npm ci, no install scripts) into a
# throw-away node_modules/, copies the two minified files the page loads, drops their
# source-map comment (the map is not shipped; a browser's devtools would ask for it) and
# writes vendor/LICENSE.txt: YASGUI's licence and the licence of every package the bundle
# was built from.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
vendor="$here/../static/vendor"
cd "$here"
trap 'rm -rf "$here/node_modules"' EXIT  # never left behind, even after a failure
npm ci --ignore-scripts --no-audit --no-fund
build="node_modules/@zazuko/yasgui/build"
version="$(node -p 'require("@zazuko/yasgui/package.json").version')"
mkdir -p "$vendor"
rm -f "$vendor"/yasgui.min.js "$vendor"/yasgui.min.css "$vendor"/LICENSE "$vendor"/LICENSE.txt
sed '/^\/\/# sourceMappingURL=/d' "$build/yasgui.min.js" > "$vendor/yasgui.min.js"
sed 's#/\*\# sourceMappingURL=[^*]*\*/##' "$build/yasgui.min.css" > "$vendor/yasgui.min.css"
{
  cat <<LICENCE
YASGUI ${version} (@zazuko/yasgui, https://github.com/zazuko/Yasgui), built files
yasgui.min.js and yasgui.min.css, copied unchanged from the npm package except for the
removed source-map comment.

The MIT License (MIT)

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in
all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
THE SOFTWARE.

The bundle includes code of the packages below (as installed by package-lock.json);
their licences follow.
LICENCE
  # every package of the lock file (paths like node_modules/@scope/name)
  for pkg in $(node -p 'Object.keys(require("./package-lock.json").packages).filter(Boolean).sort().join("\n")'); do
    [ -f "$pkg/package.json" ] || continue
    name="$(node -p "(p => p.name + ' ' + p.version + ' (' + (p.license || 'see below') + ')')(require('./$pkg/package.json'))")"
    case "$name" in @zazuko/yasgui\ *) continue ;; esac
    printf '\n==============================================================================\n%s\n' "$name"
    for f in "$pkg"/LICEN[CS]E* "$pkg"/licen[cs]e* "$pkg"/COPYING*; do
      [ -f "$f" ] && { echo; cat "$f"; }
    done
  done
} > "$vendor/LICENSE.txt"
ls -l "$vendor"
