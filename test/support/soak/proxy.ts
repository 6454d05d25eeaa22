import net from "node:net";

/** `pass` forwards; `drop` resets every connection; `stall` accepts and then forwards nothing. */
export type ProxyMode = "pass" | "drop" | "stall";

/**
 * A TCP proxy on loopback that plays a network path between two sites: it can drop connections (a
 * refused or reset route) or stall them (a black hole: the client sees no error, only silence). Leaving
 * `stall` resets the connections it held, as their timeouts would on a real network.
 */
export class TcpProxy {
  private mode: ProxyMode = "pass";
  /** Forwarding connections: client socket -> upstream socket. */
  private readonly open = new Map<net.Socket, net.Socket>();
  private readonly held = new Set<net.Socket>();
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }, listenPort = 0): Promise<TcpProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listenPort, "127.0.0.1", () => resolve());
    });
    const proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port);
    server.on("connection", (client) => proxy.accept(client, target));
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get currentMode(): ProxyMode {
    return this.mode;
  }

  setMode(mode: ProxyMode): void {
    const previous = this.mode;
    this.mode = mode;
    if (mode === "drop" || (previous === "stall" && mode === "pass")) {
      this.destroyAll();
    } else if (mode === "stall") {
      // Connections in progress go silent too: nothing more is forwarded either way.
      for (const [client, upstream] of this.open) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        for (const socket of [client, upstream]) {
          socket.pause();
          this.held.add(socket);
        }
      }
      this.open.clear();
    }
  }

  async close(): Promise<void> {
    this.destroyAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private destroyAll(): void {
    for (const [client, upstream] of this.open) {
      client.destroy();
      upstream.destroy();
    }
    for (const socket of this.held) socket.destroy();
    this.open.clear();
    this.held.clear();
  }

  private accept(client: net.Socket, target: { host: string; port: number }): void {
    client.on("error", () => {});
    if (this.mode === "drop") {
      client.resetAndDestroy();
      return;
    }
    if (this.mode === "stall") {
      client.pause();
      this.held.add(client);
      client.once("close", () => this.held.delete(client));
      return;
    }
    const upstream = net.connect(target.port, target.host);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    this.open.set(client, upstream);
    for (const socket of [client, upstream]) {
      socket.once("close", () => {
        this.open.delete(client);
        this.held.delete(socket);
      });
    }
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
