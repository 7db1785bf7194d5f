#!/usr/bin/env bash
# Runs a command under another Node major, from the npm package `node@MAJOR` (its binary
# and headers), with native modules rebuilt for that runtime and put back afterwards.
#   scripts/with-node.sh 24 npm test
# The Node binary is cached in .cache/node-MAJOR (ignored by git).
set -euo pipefail
major=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
prefix="$root/.cache/node-$major"
if [ ! -x "$prefix/node_modules/node/bin/node" ]; then
  echo "== installing node@$major from npm into $prefix"
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$prefix" "node@$major" >/dev/null
fi
bin="$prefix/node_modules/node/bin"
# The headers node-gyp builds against: the platform package node@N installs beside its binary.
version_h=$(find "$prefix/node_modules/node/node_modules" -path '*/include/node/node_version.h' | head -n 1)
headers=${version_h%/include/node/node_version.h}
[ -d "$headers/include/node" ] || { echo "no Node headers under $prefix" >&2; exit 1; }

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
  echo "== rebuilding $natives native module(s) for Node $("$bin/node" --version)"
  PATH="$bin:$PATH" npm_config_nodedir="$headers" npm rebuild --no-audit --no-fund >/dev/null
fi
echo "== on Node $("$bin/node" --version): $*"
PATH="$bin:$PATH" npm_config_nodedir="$headers" "$@"
