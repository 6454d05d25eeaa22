import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { TcpProxy } from "../../support/soak/proxy";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function echoServer(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as net.AddressInfo).port;
}

async function proxyToEcho(): Promise<TcpProxy> {
  const proxy = await TcpProxy.start({ host: "127.0.0.1", port: await echoServer() });
  cleanups.push(() => proxy.close());
  return proxy;
}

/** Connects, sends `text`, and says what came back within `waitMs`, or how the connection ended. */
function exchange(port: number, text: string, waitMs = 500): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(received === "" ? "silence" : received);
    }, waitMs);
    socket.on("connect", () => socket.write(text));
    socket.on("data", (data) => {
      received += data.toString();
      if (received === text) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received);
      }
    });
    const ended = () => {
      clearTimeout(timer);
      resolve(received === "" ? "closed" : received);
    };
    socket.on("error", ended);
    socket.on("close", ended);
  });
}

describe("TcpProxy", () => {
  it("forwards both ways while passing", async () => {
    const proxy = await proxyToEcho();
    expect(await exchange(proxy.port, "hello")).toBe("hello");
  });

  it("closes new connections while dropping, and forwards again once restored", async () => {
    const proxy = await proxyToEcho();
    proxy.setMode("drop");
    expect(await exchange(proxy.port, "hello")).toBe("closed");
    proxy.setMode("pass");
    expect(await exchange(proxy.port, "again")).toBe("again");
  });

  it("accepts but answers nothing while stalling", async () => {
    const proxy = await proxyToEcho();
    proxy.setMode("stall");
    expect(await exchange(proxy.port, "hello")).toBe("silence");
  });

  it("cuts the connections in progress when a drop begins", async () => {
    const proxy = await proxyToEcho();
    const socket = net.connect(proxy.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("data", resolve).write("ping"));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.on("error", () => {});
    proxy.setMode("drop");
    await expect(closed).resolves.toBeDefined();
  });

  it("silences a connection in progress when a stall begins, and resets it when the stall ends", async () => {
    const proxy = await proxyToEcho();
    const socket = net.connect(proxy.port, "127.0.0.1");
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once("data", resolve).write("ping"));
    proxy.setMode("stall");
    let echoed = false;
    socket.on("data", () => {
      echoed = true;
    });
    socket.write("during the stall");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(echoed).toBe(false);
    const closed = new Promise((resolve) => socket.once("close", resolve));
    proxy.setMode("pass");
    await expect(closed).resolves.toBeDefined();
  });
});
