import http from "node:http";
import type { AddressInfo } from "node:net";

// Headers of one connection, which fetch sets itself for the next hop.
const HOP_BY_HOP = new Set(["host", "connection", "keep-alive", "content-length", "transfer-encoding"]);

export interface HttpFaultProxy {
  /** The target's URL (path included) with the proxy's origin in place of the target's. */
  url: string;
  /** Answers the next request that matches with this status instead of forwarding it. */
  failNext(matches: (method: string, path: string) => boolean, status: number): void;
  close(): Promise<void>;
}

/**
 * Forwards every request to a real HTTP server, except the ones chosen to fail: a server error at one
 * precise step of a multi-request exchange, which a TCP-level cut cannot aim at.
 */
export async function startHttpFaultProxy(target: string): Promise<HttpFaultProxy> {
  const upstream = new URL(target);
  const faults: { matches: (method: string, path: string) => boolean; status: number }[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const method = request.method ?? "GET";
      const path = request.url ?? "/";
      const fault = faults.find((f) => f.matches(method, path));
      if (fault !== undefined) {
        faults.splice(faults.indexOf(fault), 1);
        response.writeHead(fault.status, { "content-type": "application/json" });
        response.end(
          JSON.stringify({ error_code: fault.status * 100, message: "failed by the test's proxy" }),
        );
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(
          (entry): entry is [string, string] => typeof entry[1] === "string" && !HOP_BY_HOP.has(entry[0]),
        ),
      );
      const body = chunks.length === 0 ? undefined : Buffer.concat(chunks);
      fetch(new URL(path, upstream.origin), { method, headers, body })
        .then(async (answer) => {
          response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "" });
          response.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => {
          response.writeHead(502);
          response.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname}`,
    failNext: (matches, status) => faults.push({ matches, status }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
