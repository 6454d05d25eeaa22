#!/usr/bin/env bash
# Brings a fresh machine to what Tandem needs: Node.js 22, the npm packages, and for the local stack
# Java 17+, Maven (to fetch server jars from Maven Central) and Debian's PostgreSQL server.
# Sourced by ./tandem and ./test.sh; safe to run again (each step is skipped when already done).
set -euo pipefail

TANDEM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_MAJOR=22

say() { printf '[setup] %s\n' "$*" >&2; }

apt_install() {
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    say "missing $*: install it with your package manager (needs root)"; exit 1
  fi
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ -z "${TANDEM_APT_UPDATED:-}" ]; then
    $sudo apt-get update -qq >&2; export TANDEM_APT_UPDATED=1
  fi
  say "installing $* (Debian packages)"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >&2
}

java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }
if [ -z "${JAVA_HOME:-}" ] && { ! command -v java >/dev/null || [ "$(java_major)" -lt 17 ]; }; then
  apt_install openjdk-17-jre-headless
fi
command -v mvn >/dev/null || apt_install maven
if [ -z "${TANDEM_PG_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt_install postgresql
fi
command -v setpriv >/dev/null || apt_install util-linux

node_major() { node -v 2>/dev/null | sed 's/^v\([0-9]*\).*/\1/'; }
if [ "$(node_major)" != "$NODE_MAJOR" ]; then
  TOOLS_NODE="$TANDEM_ROOT/.tools/node"
  if [ ! -x "$TOOLS_NODE/node_modules/.bin/node" ]; then
    say "Node.js $NODE_MAJOR not found (have $(node -v 2>/dev/null || echo none)): installing it from the npm registry into .tools/node"
    mkdir -p "$TOOLS_NODE"
    # The package's preinstall fetches the binary; npm 11 asks for each install script to be allowed by name.
    printf '{ "private": true, "allowScripts": { "node": true } }\n' >"$TOOLS_NODE/package.json"
    npm install --prefix "$TOOLS_NODE" --no-save --no-audit --no-fund "node@$NODE_MAJOR" >&2
  fi
  export PATH="$TOOLS_NODE/node_modules/.bin:$PATH"
fi

if [ ! -f "$TANDEM_ROOT/node_modules/.package-lock.json" ] ||
  [ "$TANDEM_ROOT/package-lock.json" -nt "$TANDEM_ROOT/node_modules/.package-lock.json" ]; then
  say "installing npm packages"
  (cd "$TANDEM_ROOT" && npm ci --no-audit --no-fund >&2)
fi
