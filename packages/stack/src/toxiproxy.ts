import type { ToxicSpec } from "./wan";

/** A proxy as Toxiproxy's HTTP API shows it. */
export interface ToxiproxyProxy {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: Array<ToxicSpec & { toxicity: number }>;
}

export class ToxiproxyError extends Error {}

/** A thin client of Toxiproxy's HTTP API (github.com/Shopify/toxiproxy, API.md). */
export class ToxiproxyClient {
  constructor(readonly url: string) {}

  async version(): Promise<string> {
    const response = await this.request("GET", "/version");
    return (await response.text()).trim();
  }

  async proxies(): Promise<Record<string, ToxiproxyProxy>> {
    return (await (await this.request("GET", "/proxies")).json()) as Record<string, ToxiproxyProxy>;
  }

  async createProxy(proxy: { name: string; listen: string; upstream: string }): Promise<void> {
    await this.request("POST", "/proxies", { ...proxy, enabled: true });
  }

  async deleteProxy(name: string): Promise<void> {
    await this.request("DELETE", `/proxies/${encodeURIComponent(name)}`);
  }

  /** A disabled proxy refuses new connections and closes those it has. */
  async setEnabled(name: string, enabled: boolean): Promise<void> {
    await this.request("PATCH", `/proxies/${encodeURIComponent(name)}`, { enabled });
  }

  /** Adds the toxic, or replaces the attributes of the one with its name. */
  async putToxic(proxy: string, toxic: ToxicSpec, existing: readonly string[]): Promise<void> {
    const base = `/proxies/${encodeURIComponent(proxy)}/toxics`;
    const body = { ...toxic, toxicity: 1 };
    if (existing.includes(toxic.name)) {
      await this.request("PATCH", `${base}/${encodeURIComponent(toxic.name)}`, body);
    } else await this.request("POST", base, body);
  }

  async deleteToxic(proxy: string, toxic: string): Promise<void> {
    await this.request("DELETE", `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`);
  }

  private async request(method: string, route: string, body?: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${route}`, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new ToxiproxyError(
        `toxiproxy at ${this.url} did not answer ${method} ${route}: ${String(error)}`,
      );
    }
    if (!response.ok) {
      const text = (await response.text()).trim();
      throw new ToxiproxyError(`toxiproxy ${method} ${route}: HTTP ${response.status} ${text}`);
    }
    return response;
  }
}
