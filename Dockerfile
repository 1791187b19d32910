# syntax=docker/dockerfile:1
# warmpool container image.
#   docker build -t warmpool:0.1.0 .
#   docker run --read-only --tmpfs /tmp -v $PWD/warmpool.yaml:/etc/warmpool/warmpool.yaml:ro warmpool:0.1.0
#
# Stages: build (compile TypeScript with dev dependencies) and prod-deps (runtime dependencies
# only; python3/make/g++ so ssh2's optional native crypto addon, cpu-features, can compile —
# without them ssh2 silently falls back to pure JS). The runtime stage copies both and has no
# compiler, no npm cache and no source.

# Node 20, the major CI and package.json "engines" use (test/dockerfile-node.test.ts keeps them equal),
# pinned by the digest of the multi-arch image index so a rebuild gets the same base image.
# Refresh deliberately, on a machine that reaches Docker Hub:
#   docker buildx imagetools inspect node:20-bookworm-slim --format '{{json .Manifest.Digest}}'
#   (or: crane digest node:20-bookworm-slim; skopeo inspect docker://node:20-bookworm-slim)
# and replace the digest below. Override for a local experiment with --build-arg NODE_IMAGE=...
ARG NODE_IMAGE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0

FROM ${NODE_IMAGE} AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY proto ./proto
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="warmpool" \
      org.opencontainers.image.description="Pooled, kept-alive SSH and HTTP sessions to network devices, served over gRPC" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/warmpool/warmpool"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root proto ./proto
# Files stay root-owned and read-only to the process; it writes nothing outside /tmp, so the
# container runs with readOnlyRootFilesystem (mount an emptyDir or tmpfs on /tmp).
# The node image's "node" user is uid/gid 1000.
USER 1000:1000
EXPOSE 50051 9464
# Exec form: node is PID 1 and receives SIGTERM/SIGINT/SIGHUP directly; warmpool handles all three
# (drain, drain, reload inventory), so no init shim (tini) is needed. It spawns no child processes
# that could become zombies.
# No HEALTHCHECK: Kubernetes ignores it; probes use GET /healthz and /readyz on port 9464.
ENTRYPOINT ["node", "/app/dist/src/main.js"]
CMD ["serve", "--config", "/etc/warmpool/warmpool.yaml"]
