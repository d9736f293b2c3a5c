# syntax=docker/dockerfile:1
# tpp-bff: build stage compiles TypeScript; the runtime stage holds only production dependencies
# and the compiled output, and runs as the unprivileged "node" user (uid 1000). One image runs the
# BFF (default command) and the sandbox ASPSP (node dist/src/sandbox/main.js). Node 24 LTS.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build
# Throwaway sandbox certificates (CA, bank server, TPP client), so the sandbox serves https and the
# production-mode BFF of the compose `prod` profile reaches it over mutual TLS as it would a bank.
# The server certificate also names `sandbox`, the compose service. They are generated here
# because node-forge is a development dependency; they protect nothing but the demo.
RUN SANDBOX_CERT_HOSTS=sandbox node dist/scripts/sandbox-certs.js .data/sandbox-certs && npm prune --omit=dev

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/.data/sandbox-certs ./.data/sandbox-certs
COPY --chown=node:node public ./public
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
