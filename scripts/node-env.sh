#!/usr/bin/env bash
# Prints the environment that runs commands under another Node major, from the npm
# package `node@MAJOR` (its binary and its headers, so node-gyp builds native modules
# without downloading anything):
#   eval "$(scripts/node-env.sh 22)"
# The Node binary is cached in .cache/node-MAJOR (ignored by git).
set -euo pipefail
major=$1
root=$(cd "$(dirname "$0")/.." && pwd)
prefix="$root/.cache/node-$major"
if [ ! -x "$prefix/node_modules/node/bin/node" ]; then
  echo "== installing node@$major from npm into $prefix" >&2
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$prefix" "node@$major" >/dev/null
fi
bin="$prefix/node_modules/node/bin"
# The headers node-gyp builds against: the platform package node@N installs beside its binary.
version_h=$(find "$prefix/node_modules/node/node_modules" -path '*/include/node/node_version.h' | head -n 1)
headers=${version_h%/include/node/node_version.h}
[ -d "$headers/include/node" ] || { echo "no Node headers under $prefix" >&2; exit 1; }
printf 'export PATH=%q:"$PATH"\nexport npm_config_nodedir=%q\n' "$bin" "$headers"
