# One image for every service of the media pipeline. The services run their TypeScript through tsx (no
# build step), so the image is the repository after CI's own install (`npm ci` from the lockfile).
# Targets: `app` (Node only: gateway, transcoder API, dispatch, sns-ingest, notifier, migrate, compose-init)
# and `app-ffmpeg` (adds Debian's ffmpeg/ffprobe, for the transcoder worker). The command picks the entry
# point, e.g. `node --import tsx services/notifier/src/main.ts`.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS base
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app

# Only the manifests (every package.json, the lockfile, .npmrc), so that the dependency layer below is
# rebuilt when dependencies change, not on every source edit.
FROM base AS manifests
COPY . /src
RUN mkdir /manifests \
 && cd /src \
 && find . -name node_modules -prune -o -type f \( -name package.json -o -name package-lock.json -o -name .npmrc \) -print \
    | xargs cp --parents -t /manifests

FROM base AS deps
COPY --from=manifests /manifests/ ./
RUN npm ci --no-audit --no-fund \
 && npm cache clean --force

FROM deps AS source
COPY . .

# What both images share: the /data volume for the few services that keep files (compose-init's first-user
# token), owned by the runtime user so that a named volume mounted there inherits it, and the health check.
# Every HTTP service answers GET /healthz on $PORT; the transcoder worker has no port: compose overrides it.
FROM base AS runtime
RUN mkdir -p /data && chown node:node /data
ENV NODE_ENV=production
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# ffmpeg and ffprobe for the engine (services/transcoder/src/engine spawns both by name), and bubblewrap
# to confine them to a job's scratch directory (FFMPEG_SANDBOX).
FROM runtime AS ffmpeg
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg bubblewrap \
 && rm -rf /var/lib/apt/lists/* \
 && ffmpeg -hide_banner -version | head -1

FROM ffmpeg AS app-ffmpeg
COPY --from=source /app /app
USER node
CMD ["node", "--import", "tsx", "services/transcoder/src/worker.ts"]

FROM runtime AS app
COPY --from=source /app /app
USER node
CMD ["node", "--import", "tsx", "services/upload-gateway/src/main.ts"]
