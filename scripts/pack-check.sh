#!/usr/bin/env bash
# The release as an operator gets it (docs/team.md, "Install"): `npm pack`, then the tarball installed
# into an empty prefix from the npm registry with an empty npm cache (what a new machine downloads),
# then the installed `jarvis serve`, started in an empty directory as a user would: /health, a chat
# on the demo backend, a conversation kept in SQLite, the web UI's page and its script, a clean stop.
# Prints the tarball's size, the installed size and the install time. Runs on the Node on PATH.
#   scripts/pack-check.sh                                  # this Node
#   (eval "$(scripts/node-env.sh 24)"; scripts/pack-check.sh)   # Node 24 from npm
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
node_major=$(node -p 'process.versions.node.split(".")[0]')

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "pack-check: $*" >&2
  for f in "$work"/run/stderr "$work"/run/stdout; do [ -s "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  exit 1
}
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

echo "== npm pack on Node $(node --version) (prepack empties dist/, prepare builds it again)"
started=$(now)
npm pack --pack-destination "$work" --loglevel=warn >/dev/null
pack_s=$(seconds "$started" "$(now)")
tarball=$(ls "$work"/jarvis-*.tgz)
listing=$(tar -tzf "$tarball")
for want in package/package.json package/README.md package/LICENSE package/dist/cli/jarvis.js package/dist/main.js \
  package/dist/ui/index.html package/docs/team.md package/deploy/jarvis.service package/deploy/haproxy.cfg; do
  grep -qx "$want" <<<"$listing" || fail "the tarball has no $want"
done
# Only what runs and what an operator reads: no sources, tests, benchmark, lockfile or source maps.
if stray=$(grep -E '^package/(src|test|e2e|bench|ui|scripts|models|node_modules)/|^package/package-lock\.json$|\.map$' <<<"$listing"); then
  fail "the tarball holds files a release does not need: $(head -n 5 <<<"$stray" | tr '\n' ' ')"
fi
tar_bytes=$(stat -c %s "$tarball")

echo "== npm install -g --prefix <empty> $(basename "$tarball") (npm registry, empty cache)"
prefix="$work/prefix"
started=$(now)
npm install -g --prefix "$prefix" --cache "$work/npm-cache" --no-audit --no-fund --loglevel=warn "$tarball" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; fail "the install failed"; }
install_s=$(seconds "$started" "$(now)")
echo "   installed in ${install_s} s (the pack with its build took ${pack_s} s)"
# What npm said, warnings included (npm 11 lists the install scripts it ran: better-sqlite3, node-llama-cpp).
sed 's/^/   npm: /' "$work/install.log" | head -n 20
pkg="$prefix/lib/node_modules/jarvis"
jarvis="$prefix/bin/jarvis"
[ -x "$jarvis" ] || fail "no $jarvis after the install"
# Run-time dependencies only: the dev tools (TypeScript, Vite, vitest, the SDKs the tests use) stay out.
for dev in typescript vite vitest @portkey-ai/gateway openai; do
  [ ! -e "$pkg/node_modules/$dev" ] || fail "the install holds the dev dependency $dev"
done
sqlite_driver=absent
if [ -e "$pkg/node_modules/better-sqlite3/build/Release/better_sqlite3.node" ]; then
  # prebuild-install leaves only the .node file; node-gyp leaves its objects beside it.
  sqlite_driver=$([ -d "$pkg/node_modules/better-sqlite3/build/Release/obj.target" ] && echo compiled || echo prebuilt)
fi
engine=$([ -e "$pkg/node_modules/node-llama-cpp/package.json" ] && echo installed || echo absent)
installed_mb=$(du -sm "$prefix" | cut -f1)
# node-llama-cpp is an optional peer dependency: not installed unless asked for (docs/embedded.md "Install").
engine_mb=0
if [ "$engine" = installed ]; then engine_mb=$(du -smc "$pkg"/node_modules/node-llama-cpp "$pkg"/node_modules/@node-llama-cpp 2>/dev/null | tail -n 1 | cut -f1); fi
"$jarvis" --version | grep -qx "$(node -p 'require("./package.json").version')" || fail "jarvis --version does not say this version"

# `jarvis serve` in an empty directory: data/ and logs/ go there (docs/team.md), not into the install.
# Port 0 picks a free port; the "listening on" line says which. No Ollama: the demo backend answers.
serve() {
  mkdir -p "$work/run"
  : >"$work/run/stdout"
  (cd "$work/run" && exec env OLLAMA_HOST=http://127.0.0.1:9 "$jarvis" serve --port 0 >"$work/run/stdout" 2>"$work/run/stderr") &
  pid=$!
  for _ in $(seq 1 300); do
    grep -q 'is listening on' "$work/run/stdout" && break
    kill -0 "$pid" 2>/dev/null || fail "jarvis serve exited before listening"
    sleep 0.1
  done
  url=$(grep -o 'is listening on http://[^ ]*' "$work/run/stdout" | head -n 1 | cut -d' ' -f4)
  [ -n "$url" ] || fail "jarvis serve did not say where it listens within 30 s"
}
stop() {
  kill -TERM "$pid"
  local code=0
  wait "$pid" || code=$?
  pid=
  [ "$code" = 0 ] || fail "jarvis serve exited with $code after SIGTERM"
}
check_serves() {
  curl -fsS "$url/health" | grep -q '"backend":"demo"' || fail "/health does not say the demo backend"
  curl -fsS "$url/v1/chat/completions" -H 'X-Session-Id: pack-check' -d '{"messages":[{"role":"user","content":"hello"}]}' |
    tail -n 1 | grep -q '"type":"done"' || fail "the chat did not end with done"
  local conv id
  conv=$(curl -fsS -X POST "$url/v1/conversations" -d '{"title":"pack check"}')
  id=$(node -pe 'JSON.parse(process.argv[1]).id' "$conv")
  curl -fsS "$url/v1/conversations/$id/messages" -d '{"content":"hello"}' | tail -n 1 | grep -q '"type":"done"' || fail "the conversation's answer did not end with done"
  local page script
  page=$(curl -fsS "$url/")
  grep -qi '<div id="root"' <<<"$page" || fail "/ is not the web UI's page"
  script=$(grep -o 'src="/assets/[^"]*\.js"' <<<"$page" | head -n 1 | cut -d'"' -f2)
  [ -n "$script" ] && curl -fsS -o /dev/null "$url$script" || fail "the web UI's script ($script) is not served"
}

echo "== $jarvis serve, in an empty directory"
touch "$work/before-serve"
started=$(now)
serve
start_s=$(seconds "$started" "$(now)")
check_serves
stop
[ -f "$work/run/data/jarvis.db" ] || fail "no data/jarvis.db in the directory jarvis serve ran in"
[ -f "$work/run/logs/system.log" ] || fail "no logs/system.log in the directory jarvis serve ran in"
grep -q 'stream_end .*reason=done' "$work/run/logs/system.log" || fail "the log has no stream_end reason=done"
written=$(find "$pkg" -newer "$work/before-serve" -not -path '*/node_modules/*' | head -n 5)
[ -z "$written" ] || fail "jarvis serve wrote into its install directory: $written"

# Without better-sqlite3 (an install where npm could neither download nor compile it): Node 24 has
# SQLite built in and serves as before; Node 22 refuses to start and says what to do.
mv "$pkg/node_modules/better-sqlite3" "$work/better-sqlite3" 2>/dev/null || true
rm -rf "$work/run"
if [ "$node_major" -ge 24 ]; then
  echo "== without better-sqlite3 on Node $node_major: serves with node:sqlite"
  serve
  check_serves
  stop
else
  echo "== without better-sqlite3 on Node $node_major: refuses to start, saying what to do"
  mkdir -p "$work/run"
  code=0
  (cd "$work/run" && OLLAMA_HOST=http://127.0.0.1:9 timeout 30 "$jarvis" serve --port 0 >"$work/run/stdout" 2>"$work/run/stderr") || code=$?
  [ "$code" != 0 ] && [ "$code" != 124 ] || fail "jarvis serve without better-sqlite3 exited with $code"
  for words in 'better-sqlite3' 'C++ compiler' 'Node 24' 'DATABASE_URL'; do
    grep -q "$words" "$work/run/stderr" || fail "the start-up error does not say \"$words\""
  done
  sed 's/^/   /' "$work/run/stderr"
fi
[ ! -e "$work/better-sqlite3" ] || mv "$work/better-sqlite3" "$pkg/node_modules/better-sqlite3"

echo "pack-check OK on Node $(node --version): tarball $(awk -v b="$tar_bytes" 'BEGIN { printf "%.2f", b / 1e6 }') MB," \
  "installed ${installed_mb} MB (the embedded engine, node-llama-cpp: ${engine_mb} MB), install ${install_s} s," \
  "first start ${start_s} s; better-sqlite3 ${sqlite_driver}, node-llama-cpp ${engine}"
