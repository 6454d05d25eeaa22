/**
 * The WAN profile of a local stack, as pure code: what `--wan` and `--wan-pair` mean, which proxies a stack
 * of N sites needs and on which ports. Toxiproxy carries out the plan (see `toxiproxy.ts`).
 */

/** What one direction of a link between two sites costs. */
export interface WanProfile {
  /** Round-trip time: half of it is added on each direction. */
  rttMs: number;
  /** Up to this much more or less than the RTT per round trip (half on each direction). */
  jitterMs: number;
  /** Per direction. */
  bandwidthKbit: number;
}

/** A profile for the two directions between two sites (given in either order). */
export interface WanPairOverride {
  sites: [string, string];
  profile: WanProfile;
}

export interface WanLayout {
  profile: WanProfile;
  pairs: WanPairOverride[];
}

export const DEFAULT_WAN_PROFILE: WanProfile = { rttMs: 80, jitterMs: 5, bandwidthKbit: 100_000 };

export const WAN_SERVICES = ["kafka", "registry", "s3"] as const;
export type WanService = (typeof WAN_SERVICES)[number];

/** Services at `from` reaching the servers of `to`. */
export interface WanDirection {
  from: string;
  to: string;
}

export class WanSpecError extends Error {}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s)$/;
const BANDWIDTH = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit)$/;
const BANDWIDTH_KBIT = { kbit: 1, mbit: 1000, gbit: 1_000_000 } as const;
const PROFILE_FORM = "expected key=value pairs such as rtt=80ms,jitter=5ms,bandwidth=100mbit";

function parseDuration(key: string, text: string): number {
  const match = DURATION.exec(text);
  if (!match) throw new WanSpecError(`${key}=${text}: expected a duration such as 80ms or 0.2s`);
  const value = Number(match[1]) * (match[2] === "s" ? 1000 : 1);
  return Math.round(value);
}

function parseBandwidth(text: string): number {
  const match = BANDWIDTH.exec(text);
  if (!match) throw new WanSpecError(`bandwidth=${text}: expected a rate such as 100mbit, 512kbit or 1gbit`);
  const kbit = Math.round(Number(match[1]) * BANDWIDTH_KBIT[match[2] as keyof typeof BANDWIDTH_KBIT]);
  if (kbit < 8) throw new WanSpecError(`bandwidth=${text}: at least 8kbit`);
  return kbit;
}

/** `rtt=80ms,jitter=5ms,bandwidth=100mbit`: keys left out keep their value in `base`. */
export function parseWanProfile(text: string, base: WanProfile = DEFAULT_WAN_PROFILE): WanProfile {
  const profile = { ...base };
  const seen = new Set<string>();
  for (const part of text.split(",").map((p) => p.trim())) {
    if (part === "") continue;
    const [key, value, ...rest] = part.split("=");
    if (key === undefined || value === undefined || rest.length > 0 || value === "") {
      throw new WanSpecError(`"${part}": ${PROFILE_FORM}`);
    }
    if (seen.has(key)) throw new WanSpecError(`${key} is given twice`);
    seen.add(key);
    if (key === "rtt") profile.rttMs = parseDuration(key, value);
    else if (key === "jitter") profile.jitterMs = parseDuration(key, value);
    else if (key === "bandwidth") profile.bandwidthKbit = parseBandwidth(value);
    else throw new WanSpecError(`unknown key "${key}": use rtt, jitter and bandwidth`);
  }
  if (profile.jitterMs > profile.rttMs) {
    throw new WanSpecError(`jitter ${profile.jitterMs}ms is larger than the rtt ${profile.rttMs}ms`);
  }
  return profile;
}

/**
 * `nyc-lon`: two of `sites`. Site ids may hold '-' themselves, so the split is the one whose two halves
 * are both sites.
 */
export function parseWanPair(text: string, sites: readonly string[]): [string, string] {
  const splits: Array<[string, string]> = [];
  for (let i = text.indexOf("-"); i > 0; i = text.indexOf("-", i + 1)) {
    const pair: [string, string] = [text.slice(0, i), text.slice(i + 1)];
    if (sites.includes(pair[0]) && sites.includes(pair[1])) splits.push(pair);
  }
  if (splits.length === 0) {
    throw new WanSpecError(
      `"${text}" is not a pair of the stack's sites (${sites.join(", ")}): write it as <site>-<site>, e.g. ` +
        `${sites[0] ?? "nyc"}-${sites[1] ?? "lon"}`,
    );
  }
  if (splits.length > 1) throw new WanSpecError(`"${text}" can be read as more than one pair of sites`);
  const [pair] = splits as [[string, string]];
  if (pair[0] === pair[1]) throw new WanSpecError(`"${text}": a pair needs two different sites`);
  return pair;
}

/** `nyc-sfo:rtt=150ms`: the two directions between nyc and sfo, on top of `base`. */
export function parseWanPairOverride(
  text: string,
  sites: readonly string[],
  base: WanProfile,
): WanPairOverride {
  const colon = text.indexOf(":");
  if (colon < 0)
    throw new WanSpecError(`"${text}": expected <site>-<site>:<profile>, e.g. nyc-sfo:rtt=150ms`);
  return {
    sites: parseWanPair(text.slice(0, colon), sites),
    profile: parseWanProfile(text.slice(colon + 1), base),
  };
}

/** The layout from `--wan [profile]` and each `--wan-pair`; a pair given twice is refused. */
export function wanLayoutOf(
  profileText: string | undefined,
  pairTexts: readonly string[],
  sites: readonly string[],
): WanLayout {
  if (sites.length < 2) throw new WanSpecError("a WAN needs at least two sites");
  const profile = parseWanProfile(profileText ?? "");
  const pairs = pairTexts.map((text) => parseWanPairOverride(text, sites, profile));
  pairs.forEach((pair, index) => {
    const earlier = pairs.findIndex((other) => samePair(other.sites, pair.sites));
    if (earlier !== index) throw new WanSpecError(`pair ${pair.sites.join("-")} is given twice`);
  });
  return { profile, pairs };
}

function samePair(a: readonly [string, string], b: readonly [string, string]): boolean {
  return (a[0] === b[0] && a[1] === b[1]) || (a[0] === b[1] && a[1] === b[0]);
}

export function profileOf(layout: WanLayout, direction: WanDirection): WanProfile {
  const override = layout.pairs.find((pair) => samePair(pair.sites, [direction.from, direction.to]));
  return override?.profile ?? layout.profile;
}

/** Every ordered pair of sites, in a fixed order: the order gives each its ports. */
export function wanDirections(sites: readonly string[]): WanDirection[] {
  return sites.flatMap((from) => sites.filter((to) => to !== from).map((to) => ({ from, to })));
}

/** What `tandem stack wan` acts on: `all`, a pair (both directions) or, with `oneWay`, one direction. */
export function selectDirections(
  target: string,
  sites: readonly string[],
  options: { oneWay?: boolean } = {},
): WanDirection[] {
  if (target === "all") {
    if (options.oneWay) throw new WanSpecError("a one-way selection needs a pair, not all");
    return wanDirections(sites);
  }
  const [from, to] = parseWanPair(target, sites);
  return options.oneWay
    ? [{ from, to }]
    : [
        { from, to },
        { from: to, to: from },
      ];
}

/** Ports each direction takes: one proxy per service, and the broker listener its Kafka proxy forwards to. */
export const PORTS_PER_DIRECTION = 4;

export interface WanPorts {
  /** Toxiproxy's HTTP API. */
  toxiproxy: number;
}

export interface DirectionPorts {
  kafkaProxy: number;
  registryProxy: number;
  s3Proxy: number;
  /** A listener of `to`'s broker, advertised as `kafkaProxy`: clients through the proxy stay on it. */
  kafkaListener: number;
}

/** The WAN's ports follow the sites' blocks: the API first, then a block per direction. */
export function wanPorts(basePort: number, sites: readonly string[], portsPerSite: number): WanPorts {
  return { toxiproxy: basePort + sites.length * portsPerSite };
}

export function directionPorts(
  basePort: number,
  sites: readonly string[],
  portsPerSite: number,
  direction: WanDirection,
): DirectionPorts {
  const index = wanDirections(sites).findIndex((d) => d.from === direction.from && d.to === direction.to);
  if (index < 0)
    throw new WanSpecError(`${direction.from}->${direction.to} is not a pair of the stack's sites`);
  const first = wanPorts(basePort, sites, portsPerSite).toxiproxy + 1 + index * PORTS_PER_DIRECTION;
  return { kafkaProxy: first, registryProxy: first + 1, s3Proxy: first + 2, kafkaListener: first + 3 };
}

/** The last port a stack of these sites uses, with its WAN when it has one. */
export function lastStackPort(
  basePort: number,
  sites: readonly string[],
  portsPerSite: number,
  wan: boolean,
): number {
  const siteEnd = basePort + sites.length * portsPerSite - 1;
  if (!wan) return siteEnd;
  return siteEnd + 1 + wanDirections(sites).length * PORTS_PER_DIRECTION;
}

export function proxyName(direction: WanDirection, service: WanService): string {
  return `${direction.from}-to-${direction.to}-${service}`;
}

/** Kafka listener names are upper case; one per remote site that reaches this broker. */
export function wanListenerName(from: string): string {
  return `WAN_${from.toUpperCase().replaceAll("-", "_")}`;
}

export interface ToxicSpec {
  name: string;
  type: "latency" | "bandwidth" | "timeout";
  stream: "upstream" | "downstream";
  attributes: Record<string, number>;
}

/**
 * The toxics of one proxy for a profile: half the RTT (and half the jitter) on each direction, so that a
 * request and its answer together cost the RTT; the bandwidth on each direction (Toxiproxy counts KB/s).
 */
export function profileToxics(profile: WanProfile): ToxicSpec[] {
  const rate = Math.max(1, Math.round(profile.bandwidthKbit / 8));
  // Toxiproxy takes whole milliseconds: an odd RTT puts the spare one on the way there.
  const half = (ms: number, stream: "upstream" | "downstream") =>
    stream === "upstream" ? Math.ceil(ms / 2) : Math.floor(ms / 2);
  return (["upstream", "downstream"] as const).flatMap((stream): ToxicSpec[] => [
    {
      name: `latency-${stream}`,
      type: "latency",
      stream,
      attributes: { latency: half(profile.rttMs, stream), jitter: half(profile.jitterMs, stream) },
    },
    { name: `bandwidth-${stream}`, type: "bandwidth", stream, attributes: { rate } },
  ]);
}

/** A black hole: data is swallowed both ways and connections stay open until the toxics go (timeout 0). */
export const BLACKHOLE_TOXICS: readonly ToxicSpec[] = (["upstream", "downstream"] as const).map((stream) => ({
  name: `cut-blackhole-${stream}`,
  type: "timeout",
  stream,
  attributes: { timeout: 0 },
}));

export function formatBandwidth(kbit: number): string {
  if (kbit % 1_000_000 === 0) return `${kbit / 1_000_000}gbit`;
  if (kbit % 1000 === 0) return `${kbit / 1000}mbit`;
  return `${kbit}kbit`;
}

export function formatProfile(profile: WanProfile): string {
  return `rtt=${profile.rttMs}ms,jitter=${profile.jitterMs}ms,bandwidth=${formatBandwidth(profile.bandwidthKbit)}`;
}

/** As `--wan` and `--wan-pair` would give it. */
export function formatWanLayout(layout: WanLayout): string {
  const pairs = layout.pairs.map(
    (pair) => ` --wan-pair ${pair.sites.join("-")}:${formatProfile(pair.profile)}`,
  );
  return `--wan ${formatProfile(layout.profile)}${pairs.join("")}`;
}
