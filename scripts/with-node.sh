#!/usr/bin/env bash
# Runs a command under another Node major, from the npm package `node@MAJOR` (its binary
# and headers), with native modules rebuilt for that runtime and put back afterwards.
#   scripts/with-node.sh 24 npm test
# The Node binary is cached in .cache/node-MAJOR (ignored by git; see scripts/node-env.sh).
set -euo pipefail
major=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
# PATH and npm_config_nodedir for that Node.
eval "$("$root/scripts/node-env.sh" "$major")"

cd "$root"
# Native modules (*.node under node_modules) are built for one runtime's ABI: keep the
# current builds, rebuild for this runtime, and restore them whatever happens.
backup=$(mktemp -d)
find node_modules -name '*.node' -path '*/build/Release/*' -print0 | tar --null -T - -cf "$backup/native.tar"
natives=$(tar -tf "$backup/native.tar" | wc -l)
restore() {
  tar -xf "$backup/native.tar"
  rm -rf "$backup"
}
trap restore EXIT
if [ "$natives" -gt 0 ]; then
  echo "== rebuilding $natives native module(s) for Node $(node --version)"
  npm rebuild --no-audit --no-fund >/dev/null
fi
echo "== on Node $(node --version): $*"
"$@"
