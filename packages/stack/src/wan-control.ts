import { ToxiproxyClient, type ToxiproxyProxy } from "./toxiproxy";
import {
  BLACKHOLE_TOXICS,
  WAN_SERVICES,
  profileToxics,
  proxyName,
  type WanDirection,
  type WanProfile,
  type WanService,
} from "./wan";

export const CUT_MODES = ["refuse", "blackhole"] as const;
export type CutMode = (typeof CUT_MODES)[number];

/** One proxy the WAN needs: where it listens and what it forwards to. */
export interface PlannedProxy {
  name: string;
  direction: WanDirection;
  service: WanService;
  listen: string;
  upstream: string;
}

export interface DirectionState {
  direction: WanDirection;
  /** Per service: up, or how it is cut; missing when Toxiproxy has no such proxy. */
  services: Partial<Record<WanService, "up" | CutMode>>;
  /** As the Kafka proxy's toxics say. */
  rttMs?: number;
  jitterMs?: number;
  bandwidthKbit?: number;
}

const BLACKHOLE_NAMES = BLACKHOLE_TOXICS.map((toxic) => toxic.name);

/** The WAN's proxies at run time, through Toxiproxy's HTTP API: profile, cuts, heals. */
export class WanControl {
  readonly client: ToxiproxyClient;

  constructor(
    apiUrl: string,
    private readonly plan: readonly PlannedProxy[],
  ) {
    this.client = new ToxiproxyClient(apiUrl);
  }

  /** Creates the proxies Toxiproxy lacks (a restarted Toxiproxy has none) with the profile of their pair. */
  async ensure(profileOf: (direction: WanDirection) => WanProfile): Promise<number> {
    const existing = await this.client.proxies();
    let created = 0;
    for (const proxy of this.plan) {
      const current = existing[proxy.name];
      if (current !== undefined && current.listen === proxy.listen && current.upstream === proxy.upstream) {
        continue;
      }
      if (current !== undefined) await this.client.deleteProxy(proxy.name);
      await this.client.createProxy({ name: proxy.name, listen: proxy.listen, upstream: proxy.upstream });
      for (const toxic of profileToxics(profileOf(proxy.direction))) {
        await this.client.putToxic(proxy.name, toxic, []);
      }
      created++;
    }
    return created;
  }

  async setProfile(directions: readonly WanDirection[], profile: WanProfile): Promise<void> {
    await this.forEachProxy(directions, async (proxy) => {
      for (const toxic of profileToxics(profile)) {
        await this.client.putToxic(
          proxy.name,
          toxic,
          proxy.toxics.map((t) => t.name),
        );
      }
    });
  }

  /** Refuse: the proxies are disabled. Blackhole: they accept and swallow everything. */
  async cut(directions: readonly WanDirection[], mode: CutMode): Promise<void> {
    await this.forEachProxy(directions, async (proxy) => {
      if (mode === "refuse") {
        await this.client.setEnabled(proxy.name, false);
        return;
      }
      for (const toxic of BLACKHOLE_TOXICS) {
        await this.client.putToxic(
          proxy.name,
          toxic,
          proxy.toxics.map((t) => t.name),
        );
      }
    });
  }

  async heal(directions: readonly WanDirection[]): Promise<void> {
    await this.forEachProxy(directions, async (proxy) => {
      for (const toxic of proxy.toxics.filter((t) => BLACKHOLE_NAMES.includes(t.name))) {
        await this.client.deleteToxic(proxy.name, toxic.name);
      }
      if (!proxy.enabled) await this.enable(proxy);
    });
  }

  /**
   * While a proxy is disabled its port is free, and the kernel may hand it to any outgoing connection
   * when it lies in the ephemeral range: then the proxy cannot listen again until that connection ends.
   */
  private async enable(proxy: ToxiproxyProxy): Promise<void> {
    try {
      await this.client.setEnabled(proxy.name, true);
    } catch (error) {
      if (!String(error).includes("address already in use")) throw error;
      throw new Error(
        `${proxy.name} cannot listen on ${proxy.listen} again: another connection took the port while the ` +
          `proxy was cut (a base port inside the kernel's ephemeral range allows that; prefer one below ` +
          `32768, or cut with --mode blackhole)`,
      );
    }
  }

  async show(directions: readonly WanDirection[]): Promise<DirectionState[]> {
    const existing = await this.client.proxies();
    return directions.map((direction) => {
      const state: DirectionState = { direction, services: {} };
      for (const service of WAN_SERVICES) {
        const proxy = existing[proxyName(direction, service)];
        if (proxy === undefined) continue;
        state.services[service] = !proxy.enabled
          ? "refuse"
          : proxy.toxics.some((t) => BLACKHOLE_NAMES.includes(t.name))
            ? "blackhole"
            : "up";
        if (service !== "kafka") continue;
        const toxic = (name: string) => proxy.toxics.find((t) => t.name === name)?.attributes;
        const up = toxic("latency-upstream");
        const down = toxic("latency-downstream");
        if (up !== undefined && down !== undefined) {
          state.rttMs = (up.latency ?? 0) + (down.latency ?? 0);
          state.jitterMs = (up.jitter ?? 0) + (down.jitter ?? 0);
        }
        const rate = toxic("bandwidth-upstream")?.rate;
        if (rate !== undefined) state.bandwidthKbit = rate * 8;
      }
      return state;
    });
  }

  private async forEachProxy(
    directions: readonly WanDirection[],
    action: (proxy: ToxiproxyProxy) => Promise<void>,
  ): Promise<void> {
    const existing = await this.client.proxies();
    const wanted = this.plan.filter((planned) =>
      directions.some((d) => d.from === planned.direction.from && d.to === planned.direction.to),
    );
    for (const planned of wanted) {
      const proxy = existing[planned.name];
      if (proxy === undefined) {
        throw new Error(`toxiproxy has no proxy ${planned.name}: run 'tandem stack up' to create it`);
      }
      await action(proxy);
    }
  }
}
