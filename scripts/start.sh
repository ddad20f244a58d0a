#!/bin/sh
# ringproof one-command start (`npm start`), for a fresh Debian/Ubuntu machine or a dev checkout.
#
#   npm start                                  # zero-config demo
#   npm start -- --config config/ringproof.yaml --log-level debug
#
# It installs npm dependencies and builds when needed, makes sure redis-server exists when the
# configuration relies on the embedded Redis (no REDIS_URL), then execs `ringproof serve` with the
# given arguments, so signals (SIGTERM, SIGINT) go straight to the daemon.
set -eu

say() { printf 'ringproof-start: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# npm runs scripts from the package root; direct `sh scripts/start.sh` from elsewhere works too.
cd "$(dirname "$0")/.."

# --- Node.js ------------------------------------------------------------------------------------
# ringproof runs on Node.js 22, 24 and 26. With an older (or no usable) node, a current LTS node is
# fetched from the npm registry into a cache directory outside the checkout (scripts/node-runtime.sh,
# the same script CI uses) and used for everything below; the machine's node is left alone.
node_help='install Node.js 22 or newer with npm (e.g. from https://nodejs.org or https://github.com/nodesource/distributions; older distributions ship a nodejs package that is too old)'
command -v npm >/dev/null 2>&1 || die "npm not found: $node_help"
min_major=$(sh scripts/node-runtime.sh --minimum)
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt "$min_major" ]; then
  lts=$(sh scripts/node-runtime.sh --default)
  if [ "$node_major" -eq 0 ]; then found='no usable node'; else found="node $(node --version)"; fi
  say "$found on PATH; ringproof needs Node.js $min_major or newer: using Node.js $lts from the npm registry instead"
  node_bin=$(sh scripts/node-runtime.sh "$lts") || die "could not obtain Node.js $lts: $node_help"
  PATH="$(dirname "$node_bin"):$PATH"
  export PATH
  say "using $node_bin ($(node --version))"
fi

# --- npm dependencies ---------------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install: older than package-lock.json means
# the lockfile changed since the last install.
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] \
  || { [ -f package-lock.json ] && [ -n "$(find package-lock.json -newer node_modules/.package-lock.json)" ]; }; then
  if [ -f package-lock.json ]; then
    say 'installing npm dependencies (npm ci)'
    # --include=dev: the TypeScript compiler is a dev dependency, needed for the build below even
    # when NODE_ENV=production.
    npm ci --include=dev --no-audit --no-fund >&2 || die 'npm ci failed (see above)'
  else
    say 'installing npm dependencies (npm install; no package-lock.json)'
    npm install --include=dev --no-audit --no-fund >&2
  fi
fi

# --- build --------------------------------------------------------------------------------------
needs_build=no
if [ ! -f dist/command-line/main.js ]; then
  needs_build=yes
elif [ -n "$(find src tsconfig.json package.json -newer dist/command-line/main.js | head -n 1)" ]; then
  needs_build=yes
fi
if [ "$needs_build" = yes ]; then
  say 'building (npm run build)'
  if ! npm run --silent build >&2; then
    # tsc emits even when type-checking fails; drop the entry point so the next start rebuilds
    # instead of running that output.
    rm -f dist/command-line/main.js
    die 'build failed (see the TypeScript errors above)'
  fi
fi

# --- Redis --------------------------------------------------------------------------------------
# Ask the daemon's own config loader (same file, environment and --config/--role flags as `serve`)
# whether it will start the embedded redis-server: that is the case unless a Redis URL is
# configured (file, REDIS_URL or RINGPROOF_REDIS_URL) or the process is a SIP-only edge
# (role edge with events.sink log). Prints "embedded <binary>", "none", or "error" (bad config:
# `serve` below reports it properly, with exit code 78).
redis_need=$(node --input-type=module - "$@" <<'EOF' 2>/dev/null || echo error
const args = process.argv.slice(2);
const opts = {};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const m = /^--(config|role)=(.*)$/s.exec(a);
  if (m) opts[m[1]] = m[2];
  else if (a === '-c' || a === '--config') opts.config = args[++i];
  else if (a === '--role') opts.role = args[++i];
}
try {
  const { loadConfig } = await import('./dist/config/load-config.js');
  const c = loadConfig({
    ...(opts.config ? { file: opts.config } : {}),
    env: process.env,
    flags: opts.role ? { role: opts.role } : {},
  });
  const sipOnlyEdge = c.role === 'edge' && c.events.sink === 'log';
  console.log(c.redis.url === undefined && !sipOnlyEdge ? `embedded ${c.redis.embeddedBinary}` : 'none');
} catch {
  console.log('error');
}
EOF
)

disable_distro_redis() {
  # The redis-server package starts its own service on 127.0.0.1:6379. ringproof does not use it
  # (it runs a private redis-server child on a unix socket under stateDir), so stop and disable it
  # rather than leave an unused database running.
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now redis-server.service >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    $SUDO service redis-server stop >/dev/null 2>&1 || true
  fi
  say "stopped the distribution's redis-server service and disabled it at boot (ringproof runs its own private redis-server;"
  say "  re-enable the service with: sudo systemctl enable --now redis-server)"
}

case "$redis_need" in
  'embedded redis-server')
    if ! command -v redis-server >/dev/null 2>&1; then
      SUDO=''
      can_install=no
      if command -v apt-get >/dev/null 2>&1; then
        if [ "$(id -u)" -eq 0 ]; then
          can_install=yes
        elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
          can_install=yes
          SUDO='sudo'
        fi
      fi
      if [ "$can_install" = yes ]; then
        say 'redis-server not found: installing it with apt-get (ringproof runs it as a private child process)'
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server >&2
        disable_distro_redis
        command -v redis-server >/dev/null 2>&1 || die 'redis-server is still not on PATH after installing it'
      else
        say 'redis-server is not installed, and ringproof needs it: with no REDIS_URL it runs a private'
        say 'redis-server child (unix socket and data under stateDir, default ./var). Either:'
        if command -v apt-get >/dev/null 2>&1; then
          say '  install it:   sudo apt-get update && sudo apt-get install -y redis-server'
          say '                sudo systemctl disable --now redis-server   # optional: ringproof does not use that service'
        else
          say '  install it with your package manager (e.g. "dnf install redis", "brew install redis")'
        fi
        say '  or use an existing Redis:  REDIS_URL=redis://HOST:6379 npm start'
        say '  or run a SIP-only edge without Redis:  RINGPROOF_ROLE=edge RINGPROOF_EVENT_SINK=log npm start'
        exit 1
      fi
    fi
    ;;
  embedded\ *)
    # A custom redis.embeddedBinary path: the daemon checks it and says what is wrong.
    ;;
  none | error) ;;
  *) ;;
esac

exec node dist/command-line/main.js serve "$@"
