# One image for every process of the platform; the command picks the service:
#   node --import tsx services/account-service/main.ts   (also worker, transfer-api,
#   temporal-setup, codec-server). Configuration comes from the environment only; each
#   process validates it at start and stops naming the variable at fault.
# Debian (glibc), not Alpine: the Temporal SDK's native core bridge is built for glibc.
ARG NODE_IMAGE=node:20.19.5-bookworm-slim

# Production dependencies only (tsx runs the TypeScript sources; no build output to keep in sync).
FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Type-checks the sources with the dev dependencies; an image is never built from code that fails it.
FROM ${NODE_IMAGE} AS check
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY lib ./lib
COPY activities ./activities
COPY workflows ./workflows
COPY services ./services
COPY infra ./infra
COPY test ./test
RUN npx tsc --noEmit -p tsconfig.json && touch /app/.typechecked

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=check /app/.typechecked ./
COPY --from=dependencies --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json tsconfig.json ./
COPY --chown=root:root lib ./lib
COPY --chown=root:root activities ./activities
COPY --chown=root:root workflows ./workflows
COPY --chown=root:root services ./services
COPY --chown=root:root infra ./infra
# The code is owned by root and read-only to the service, which runs as the image's unprivileged user.
USER node
EXPOSE 3000 4001 8234 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "infra/docker/healthcheck.mjs"]
CMD ["node", "--enable-source-maps", "--import", "tsx", "services/transfer-api/main.ts"]
