# syntax=docker/dockerfile:1
# Image of the whiteboard service (service + browser client). Built by Cloud Build during `make deploy`
# (infra/image/build-image.sh); locally: `docker build -t whiteboard .`.

# --- build: all dependencies, compile the service and bundle the client into dist/ --------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no native add-on builds (the slim image has no compiler); esbuild and swc come as
# prebuilt optional packages.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY protocol ./protocol
COPY service ./service
COPY client ./client
RUN npm run build

# --- deps: production dependencies only -----------------------------------------------------------------------
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime ------------------------------------------------------------------------------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=8080
WORKDIR /app
# Files stay owned by root and read-only for the runtime user.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The node image's unprivileged user (uid 1000).
USER node
EXPOSE 8080
# node directly (not npm) so SIGTERM reaches the process and it can drain within Cloud Run's 10 s.
CMD ["node", "dist/service/main.js"]
