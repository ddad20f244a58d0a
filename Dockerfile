# syntax=docker/dockerfile:1
#
# ringproof container image.
#
#   docker build -t ringproof .
#   docker run --rm --name ringproof \
#     -p 5060:5060/udp -p 5060:5060/tcp -p 8080:8080 \
#     -v ringproof-state:/var/lib/ringproof \
#     -v "$PWD/ringproof.yaml:/etc/ringproof/ringproof.yaml:ro" \
#     ringproof serve --config /etc/ringproof/ringproof.yaml
#
# With no REDIS_URL the daemon runs its own redis-server (installed below) as a child process, with
# its AOF in /var/lib/ringproof: keep that directory on a volume. With REDIS_URL set, the bundled
# redis-server is simply never started.
#
# Signals: the daemon itself is PID 1 here. It handles SIGTERM/SIGINT (graceful drain, then exit)
# and reaps its only child, redis-server, so no init is required; `docker run --init` (tini) is fine
# too if you prefer one. Give `docker stop -t` more than shutdownGraceSeconds (default 10 s).

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: compile TypeScript, then drop dev dependencies --------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, so source edits do not invalidate the npm ci layer.
COPY package.json package-lock.json ./
RUN npm ci --include=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime ------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}

# redis-server for the embedded default (no REDIS_URL). The package's own service is never started:
# there is no init system in the container, and the daemon runs redis-server itself.
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/*

# A fixed numeric uid/gid, so volume ownership is predictable and Kubernetes runAsNonRoot can
# verify the user.
RUN groupadd --system --gid 10001 ringproof \
 && useradd --system --uid 10001 --gid ringproof --home-dir /var/lib/ringproof --no-create-home \
      --shell /usr/sbin/nologin ringproof \
 && mkdir -p /var/lib/ringproof /etc/ringproof \
 && chown ringproof:ringproof /var/lib/ringproof \
 && chmod 0750 /var/lib/ringproof

WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config ./config
# The sample configuration, as a starting point for a mounted /etc/ringproof/ringproof.yaml.
COPY config/ringproof.example.yaml /etc/ringproof/ringproof.example.yaml

ENV NODE_ENV=production \
    RINGPROOF_HTTP_LISTEN=0.0.0.0:8080 \
    RINGPROOF_STATE_DIR=/var/lib/ringproof

VOLUME ["/var/lib/ringproof"]
EXPOSE 5060/udp 5060/tcp 8080/tcp

USER 10001:10001

# Liveness only (/healthz); use /readyz for load-balancer readiness. slim has no curl: use node's
# fetch, on the port from RINGPROOF_HTTP_LISTEN, via loopback when the daemon listens on a wildcard.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const l=process.env.RINGPROOF_HTTP_LISTEN||'127.0.0.1:8080';const i=l.lastIndexOf(':');let h=l.slice(0,i).replace(/^\\[|\\]$/g,'');if(h==='0.0.0.0'||h==='')h='127.0.0.1';if(h==='::')h='::1';if(h.includes(':'))h='['+h+']';fetch('http://'+h+':'+l.slice(i+1)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/command-line/main.js"]
CMD ["serve"]
