# syntax=docker/dockerfile:1
# Stagecoach API and worker image. One image, two commands:
#   API (default):  node dist/server.js
#   worker:         node dist/worker.js   (set as `command` in temporal-docker/docker-compose.yml)
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts skips the postinstall that provisions Temporal dev binaries (dev-only; the
# image talks to a real Temporal server). The SDK's core-bridge ships prebuilt native binaries.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/build-portal.mjs ./scripts/
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts

FROM ${NODE_IMAGE} AS runtime
# Every file Stagecoach writes lives under /data: /app belongs to root and is read-only for `node`, so
# the defaults under .stagecoach/ would fail with EACCES (test/temporal-docker.test.ts checks that every
# state file setting is set here).
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    DIRECTORY_FILE=/data/directory.json \
    AUTH_LOCAL_KEY_FILE=/data/local-signing-key.json \
    TEMPORAL_DB_FILE=/data/temporal.sqlite \
    PORTAL_SESSION_KEY_FILE=/data/portal-session-key
WORKDIR /app
# Creating /data here, owned by `node`, makes a volume mounted on it (named or anonymous) writable for
# the non-root user.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY data ./data
USER node
EXPOSE 3000
CMD ["node", "dist/server.js"]
