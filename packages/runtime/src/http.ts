import http from "node:http";
import type { Registry } from "prom-client";

export interface Health {
  healthy: boolean;
  details: unknown;
}

export type RouteHandler = (
  request: http.IncomingMessage,
  body: string,
) => Promise<{ status: number; body: unknown }>;

/**
 * The operations endpoint of a service: `/metrics` (Prometheus), `/healthz`, and service-specific routes
 * such as a link's manual catch-up.
 */
export async function startOpsServer(options: {
  port: number;
  host?: string;
  metrics: Registry;
  health: () => Health;
  routes?: Record<string, RouteHandler>;
}): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      void (async () => {
        const url = new URL(request.url ?? "/", "http://localhost");
        try {
          if (url.pathname === "/metrics") {
            response.writeHead(200, { "content-type": options.metrics.contentType });
            response.end(await options.metrics.metrics());
            return;
          }
          if (url.pathname === "/healthz") {
            const health = options.health();
            response.writeHead(health.healthy ? 200 : 503, { "content-type": "application/json" });
            response.end(JSON.stringify(health));
            return;
          }
          const route = options.routes?.[`${request.method} ${url.pathname}`];
          if (!route) {
            response.writeHead(404, { "content-type": "application/json" });
            response.end(JSON.stringify({ error: `no route ${request.method} ${url.pathname}` }));
            return;
          }
          const result = await route(request, Buffer.concat(chunks).toString("utf8"));
          response.writeHead(result.status, { "content-type": "application/json" });
          response.end(JSON.stringify(result.body));
        } catch (error) {
          response.writeHead(500, { "content-type": "application/json" });
          response.end(JSON.stringify({ error: (error as Error).message }));
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", resolve);
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : options.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
