# The image the Kubernetes manifests run (transferbench kubernetes): build it from a clean clone with
#   docker build -t transferbench:latest .
# or, with no container engine, deploy/image/build.sh (buildah; --local-base when no registry is
# reachable: the base images below are then made from the Debian mirror and the npm registry).
# Stage 1 installs every dependency and compiles the TypeScript; stage 2 keeps only the runtime
# dependencies and the compiled code on a slim base, with no compiler, npm cache or sources.
# Official Node images by default; other bases with Node 20, npm and a user `node` work as well.
ARG BUILD_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=node:20-bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src src
# tsconfig.json compiles the tests and the micro-benchmarks too (the build checks them); their
# output is dropped below.
COPY test test
COPY perf perf
# npm ci runs `prepare`, which builds dist/; prune then drops the dev dependencies. The variable
# stops an older npm from running onnxruntime-node's CUDA download (newer npm reads allowScripts).
ENV ONNXRUNTIME_NODE_INSTALL=skip
# onnxruntime-node ships its native library for every platform: keep Linux's (x64 and arm64).
RUN npm ci && npm prune --omit=dev && rm -rf dist/test dist/perf && npm cache clean --force \
  && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin node_modules/onnxruntime-node/bin/napi-v*/win32

FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json /app/package.json
COPY --from=build /app/node_modules /app/node_modules
COPY --from=build /app/dist /app/dist
# Suites and zoo recipes are read at run time (bench/*.json, targets/zoo*.json).
COPY bench bench
COPY targets targets
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/transferbench \
  && mkdir -p /results && chown node:node /results
USER node
ENTRYPOINT ["transferbench"]
CMD ["--help"]
