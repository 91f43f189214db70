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
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    DIRECTORY_FILE=/data/directory.json \
    AUTH_LOCAL_KEY_FILE=/data/local-signing-key.json
WORKDIR /app
# /data holds the embedded directory state and the local signing key. Creating it here, owned by
# `node`, makes a named volume mounted on it writable for the non-root user.
RUN mkdir -p /data && chown node:node /data
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY data ./data
USER node
EXPOSE 3000
CMD ["node", "dist/server.js"]
