# The gateway image (used by observability/compose.yaml; deploy it the same way).
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data MALLOC_ARENA_MAX=2
COPY package.json package-lock.json ./
# Applied by the postinstall step (patch-package); see docs/dependencies.md.
COPY patches ./patches
# tsx runs the TypeScript sources; dev tools stay out of the image.
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
COPY tsconfig.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/main.ts"]
