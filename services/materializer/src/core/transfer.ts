/** Audio claim check: where to copy a call's audio from, and what to do after a failed attempt. Pure. */
import { backoffDelay } from "@tandem/runtime";

export interface TransferOptions {
  /** Attempts before the audio is marked failed and dead-lettered. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface AudioCopySource {
  site: string;
  key: string;
}

/**
 * Copies to try, best first: the site's own store under the local key (already there: nothing to copy),
 * then the origin's store under the key the event names, then every other site's store under the key
 * each site writes (they all derive it the same way). Sites absent from the topology are skipped.
 */
export function copySources(input: {
  localSite: string;
  originSite: string;
  originKey: string;
  localKey: string;
  sites: readonly string[];
}): AudioCopySource[] {
  const { localSite, originSite, originKey, localKey, sites } = input;
  const sources: AudioCopySource[] = [{ site: localSite, key: localKey }];
  if (originSite === localSite && originKey !== localKey) sources.push({ site: localSite, key: originKey });
  if (originSite !== localSite && sites.includes(originSite))
    sources.push({ site: originSite, key: originKey });
  for (const site of sites) {
    if (site !== localSite && site !== originSite) sources.push({ site, key: localKey });
  }
  return sources;
}

export type FailureDecision = { kind: "retry"; nextAttemptAt: Date; outage: boolean } | { kind: "fail" };

/** A failed attempt, as the budget sees it. */
export interface FailedAttempt {
  /** Attempts so far, this one included: the backoff grows with them. */
  attempts: number;
  /** Of those, the attempts before this one that met only an outage. */
  earlierOutages: number;
  /** This attempt met only an outage (`metOnlyOutage`). */
  outage: boolean;
}

/**
 * After a failed attempt: wait with capped exponential backoff (half of each delay random), or give up
 * once the budget is spent. Attempts that met only an outage do not spend it.
 */
export function afterFailure(
  failed: FailedAttempt,
  now: Date,
  options: TransferOptions,
  random: () => number = Math.random,
): FailureDecision {
  const spent = failed.attempts - failed.earlierOutages - (failed.outage ? 1 : 0);
  if (spent >= options.maxAttempts) return { kind: "fail" };
  const waitMs = backoffDelay(Math.max(0, failed.attempts - 1), random, {
    initialMs: options.initialBackoffMs,
    maxMs: options.maxBackoffMs,
    multiplier: 2,
    jitter: 0.5,
  });
  return { kind: "retry", nextAttemptAt: new Date(now.getTime() + waitMs), outage: failed.outage };
}

/**
 * Whether a failed attempt says nothing about the audio: the site's own store was unreachable (nothing
 * could be written), or the origin's store, which holds the audio, was unreachable or cut off mid-read.
 * A link cut for hours must not fail the audio of every call that came through before it.
 */
export function metOnlyOutage(
  outcomes: readonly SourceOutcome[],
  localSite: string,
  originSite: string,
): boolean {
  return outcomes.some(
    (o) =>
      (o.site === localSite && o.outcome === "unreachable") ||
      (o.site === originSite && (o.outcome === "unreachable" || o.outcome === "unverified")),
  );
}

/** One source's outcome in an attempt, kept in `audio_transfers.sources_tried`. */
export interface SourceOutcome {
  site: string;
  key: string;
  /**
   * `absent` only when there is no object under the key; an object that is there either mismatched or
   * is `unverified` (its bytes could not be read through to the end, to be tried again).
   */
  outcome: "copied" | "present" | "absent" | "checksum-mismatch" | "unverified" | "unreachable" | "error";
  detail?: string;
}

const OUTCOME_WORDS: Partial<Record<SourceOutcome["outcome"], string>> = { unverified: "not yet verified" };

/** The reason recorded when no source gave a verified copy. */
export function failureReason(outcomes: readonly SourceOutcome[]): string {
  if (outcomes.length === 0) return "no source of the audio is known";
  return outcomes
    .map(
      (o) =>
        `${o.site}:${o.key} ${OUTCOME_WORDS[o.outcome] ?? o.outcome}${o.detail === undefined ? "" : ` (${o.detail})`}`,
    )
    .join("; ");
}
