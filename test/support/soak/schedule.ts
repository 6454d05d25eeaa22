import type { CutMode } from "@tandem/stack";
import { seededRandom } from "../random";

/** What the soak can break. Each fault is undone after its duration. */
export const FAULT_KINDS = [
  "kill-bridge",
  "kill-materializer",
  "stop-kafka",
  "stop-object-store",
  "restart-postgres",
  "cut-link",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface LinkRef {
  from: string;
  to: string;
}

interface Timing {
  /** Offset from the start of the run. */
  atMs: number;
  /** How long the fault lasts before it is undone. */
  durationMs: number;
}

export type Fault = Timing &
  (
    | { kind: "kill-bridge"; link: LinkRef }
    | { kind: "cut-link"; link: LinkRef; mode: CutMode }
    | { kind: "kill-materializer" | "stop-kafka" | "stop-object-store" | "restart-postgres"; site: string }
  );

export interface ScheduleOptions {
  seed: string | number;
  durationMs: number;
  sites: readonly string[];
  links: readonly LinkRef[];
  /** Faults in effect at the same time, at most (default 2: one at a time, and overlapping). */
  maxConcurrent?: number;
  /** Pause between the starts of two faults (defaults 3 s to 15 s). */
  minGapMs?: number;
  maxGapMs?: number;
  /** How long a fault lasts (defaults 5 s to 25 s). */
  minFaultMs?: number;
  maxFaultMs?: number;
}

export const linkName = (link: LinkRef) => `${link.from}->${link.to}`;

/**
 * What a fault holds while it lasts: two faults on the same thing at once would undo each other (a
 * bridge killed while its link is cut, a broker started by one fault while another still wants it down).
 */
export function resourcesOf(fault: Fault): string[] {
  switch (fault.kind) {
    case "kill-bridge":
      return [`bridge:${linkName(fault.link)}`];
    case "cut-link":
      return [`link:${linkName(fault.link)}`];
    case "kill-materializer":
      return [`materializer:${fault.site}`];
    case "stop-kafka":
      return [`kafka:${fault.site}`];
    case "stop-object-store":
      return [`s3:${fault.site}`];
    case "restart-postgres":
      return [`postgres:${fault.site}`];
  }
}

function candidates(
  kind: FaultKind,
  sites: readonly string[],
  links: readonly LinkRef[],
): Array<{ link: LinkRef } | { site: string }> {
  if (kind === "kill-bridge" || kind === "cut-link") return links.map((link) => ({ link }));
  return sites.map((site) => ({ site }));
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * A reproducible fault schedule over `durationMs`: every fault ends within the duration, at most
 * `maxConcurrent` are in effect at once, never two on the same resource. Kinds come in rounds (each
 * round a seeded permutation of all kinds), so that a run long enough for one round tries every kind.
 */
export function faultSchedule(options: ScheduleOptions): Fault[] {
  const maxConcurrent = options.maxConcurrent ?? 2;
  const minGap = options.minGapMs ?? 3000;
  const maxGap = options.maxGapMs ?? 15_000;
  const minFault = options.minFaultMs ?? 5000;
  const maxFault = options.maxFaultMs ?? 25_000;
  if (!(maxConcurrent >= 1 && 0 < minGap && minGap <= maxGap && 0 < minFault && minFault <= maxFault)) {
    throw new RangeError(
      "fault schedule needs maxConcurrent >= 1, 0 < minGap <= maxGap, 0 < minFault <= maxFault",
    );
  }
  if (options.sites.length === 0) throw new RangeError("fault schedule needs at least one site");
  const random = seededRandom(options.seed);
  const between = (low: number, high: number) => Math.round(low + random() * (high - low));
  const kinds = FAULT_KINDS.filter((kind) => candidates(kind, options.sites, options.links).length > 0);
  const faults: Fault[] = [];
  let queue: FaultKind[] = [];
  let at = between(minGap, maxGap);
  while (at + minFault <= options.durationMs) {
    const active = faults.filter((f) => f.atMs + f.durationMs > at);
    if (active.length < maxConcurrent) {
      const busy = new Set(active.flatMap(resourcesOf));
      if (queue.length === 0) queue = shuffled(kinds, random);
      const durationMs = Math.min(between(minFault, maxFault), options.durationMs - at);
      // The round's next kind that has a free target; a kind with none waits for a later slot.
      for (const [index, kind] of queue.entries()) {
        const free = shuffled(candidates(kind, options.sites, options.links), random)
          .map((target) => {
            const base = { atMs: at, durationMs };
            if ("site" in target) return { ...base, kind, site: target.site } as Fault;
            if (kind === "cut-link")
              return {
                ...base,
                kind,
                link: target.link,
                mode: random() < 0.5 ? "refuse" : "blackhole",
              } as Fault;
            return { ...base, kind: "kill-bridge", link: target.link } as Fault;
          })
          .find((fault) => resourcesOf(fault).every((r) => !busy.has(r)));
        if (free === undefined) continue;
        faults.push(free);
        queue.splice(index, 1);
        break;
      }
    }
    at += between(minGap, maxGap);
  }
  return faults;
}

export function faultsByKind(faults: readonly Fault[]): Record<FaultKind, number> {
  const counts = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  for (const fault of faults) counts[fault.kind]++;
  return counts;
}

/** The largest number of faults in effect at the same instant. */
export function peakConcurrency(faults: readonly Fault[]): number {
  const edges = faults.flatMap((f) => [
    { at: f.atMs, delta: 1 },
    { at: f.atMs + f.durationMs, delta: -1 },
  ]);
  // At equal instants an ending fault is counted before a starting one: they do not overlap.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let peak = 0;
  for (const edge of edges) {
    current += edge.delta;
    peak = Math.max(peak, current);
  }
  return peak;
}

export function describeFault(fault: Fault): string {
  const what =
    fault.kind === "cut-link"
      ? `cut-link ${linkName(fault.link)} (${fault.mode})`
      : fault.kind === "kill-bridge"
        ? `kill-bridge ${linkName(fault.link)}`
        : `${fault.kind} ${fault.site}`;
  return `${what} at ${(fault.atMs / 1000).toFixed(1)}s for ${(fault.durationMs / 1000).toFixed(1)}s`;
}
