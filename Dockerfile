# syntax=docker/dockerfile:1
# One image for every Tandem service (bridge, materializer, recorder simulator, CLI). There is no build
# step: tsx runs the TypeScript sources, so the image holds the repository and its production dependencies.

# Only the npm manifests, so that the dependency layer below is rebuilt when dependencies change and not
# on every source edit.
FROM node:22-bookworm-slim AS manifests
WORKDIR /app
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json ! -name .npmrc -delete \
  && find . -depth -mindepth 1 -type d -empty -delete

FROM node:22-bookworm-slim
WORKDIR /app
COPY --from=manifests /app ./
# No dev tooling (compiler, linters, test runners): tsx, which runs the sources, is a dependency of the CLI.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY . .
USER node
ENTRYPOINT ["node", "--import", "tsx", "services/cli/src/main.ts"]
CMD ["--help"]
