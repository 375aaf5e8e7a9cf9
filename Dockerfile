# syntax=docker/dockerfile:1
# Build: compile TypeScript with the full dependency set.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Run: only the compiled code and production dependencies, as a non-root user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
# Certificates, keys and the config are mounted at run time, never baked in:
#   docker run -v $PWD/deploy:/etc/verigate:ro -p 8443:8443 verigate
EXPOSE 8443 9090
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve", "--config", "/etc/verigate/verigate.yaml"]
