#!/usr/bin/env bash
# IsolatePool (Deno) against piscina and tinypool (Node) on the same tasks,
# 2 workers each: installs the Node pools here if needed, runs each side
# (deno_side.ts, node_peers.mjs, both timed by method.mjs), then prints one
# Markdown table (table.mjs). Dev-only: not part of `deno task test` or
# `deno task bench`.
#
# Usage: bash bench/peers/run.sh [--rounds=N]   (default 15 rounds)
#        PEERS_OUT=DIR bash bench/peers/run.sh  keeps the JSON in DIR
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if [[ ! -d node_modules ]]; then
  npm install --no-audit --no-fund >&2
fi

# PEERS_OUT=DIR keeps each side's JSON there (deno.json, node.json).
if [[ -n "${PEERS_OUT:-}" ]]; then
  out="$PEERS_OUT"
  mkdir -p "$out"
else
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi

load="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)"
echo "1-minute load average before the run: $load on $(nproc) cores" >&2
if awk -v l="$load" 'BEGIN { exit !(l >= 1) }'; then
  echo "note: the machine has been busy (this counts a bench run in the" \
    "last minute too); the table's 'waiting for a core' row shows how much" \
    "other load touched each side" >&2
fi

# One side at a time, so the two runtimes never share the cores.
deno run -A deno_side.ts "$@" >"$out/deno.json"
node node_peers.mjs "$@" >"$out/node.json"
node table.mjs "$out/deno.json" "$out/node.json"
