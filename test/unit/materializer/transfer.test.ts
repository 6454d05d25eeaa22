import { describe, expect, it } from "vitest";
import {
  afterFailure,
  copySources,
  failureReason,
  metOnlyOutage,
  type SourceOutcome,
} from "../../../services/materializer/src/core/transfer";

const options = { maxAttempts: 4, initialBackoffMs: 1000, maxBackoffMs: 5000 };
const now = new Date("2026-01-01T00:00:00Z");
/** A failed attempt after `attempts - 1` failed ones, none of them an outage. */
const counted = (attempts: number) => ({ attempts, earlierOutages: 0, outage: false });

describe("audio transfer decisions", () => {
  it("backs off exponentially up to the cap, then gives up at the budget", () => {
    const delay = (attempts: number) => {
      const decision = afterFailure(counted(attempts), now, options, () => 0);
      return decision.kind === "retry" ? decision.nextAttemptAt.getTime() - now.getTime() : "fail";
    };
    expect([1, 2, 3, 4].map(delay)).toEqual([1000, 2000, 4000, "fail"]);
    expect(afterFailure(counted(3), now, { ...options, maxAttempts: 10 }, () => 0)).toEqual({
      kind: "retry",
      nextAttemptAt: new Date(now.getTime() + 4000),
      outage: false,
    });
    const capped = afterFailure(counted(8), now, { ...options, maxAttempts: 10 }, () => 0);
    expect(capped).toEqual({ kind: "retry", nextAttemptAt: new Date(now.getTime() + 5000), outage: false });
  });

  it("does not spend the budget on attempts that met only an outage, and backs off through them", () => {
    // Four attempts allowed: the 7th attempt, after 3 outages, is the 4th that counts.
    expect(afterFailure({ attempts: 6, earlierOutages: 3, outage: false }, now, options, () => 0)).toEqual({
      kind: "retry",
      nextAttemptAt: new Date(now.getTime() + 5000),
      outage: false,
    });
    expect(afterFailure({ attempts: 7, earlierOutages: 3, outage: false }, now, options).kind).toBe("fail");
    // However many outages, another one is retried, at the capped backoff.
    expect(afterFailure({ attempts: 40, earlierOutages: 39, outage: true }, now, options, () => 0)).toEqual({
      kind: "retry",
      nextAttemptAt: new Date(now.getTime() + 5000),
      outage: true,
    });
    expect(afterFailure({ attempts: 4, earlierOutages: 0, outage: true }, now, options).kind).toBe("retry");
  });

  it("calls an attempt an outage when the site's own store or the origin's store could not answer", () => {
    const outcome = (site: string, kind: SourceOutcome["outcome"]): SourceOutcome => ({
      site,
      key: "k",
      outcome: kind,
    });
    const outage = (...outcomes: SourceOutcome[]) => metOnlyOutage(outcomes, "lon", "nyc");
    expect(outage(outcome("lon", "unreachable"))).toBe(true);
    expect(outage(outcome("lon", "absent"), outcome("nyc", "unreachable"), outcome("sfo", "absent"))).toBe(
      true,
    );
    expect(outage(outcome("lon", "absent"), outcome("nyc", "unverified"))).toBe(true);
    // The origin answered: the audio is not where it should be, whatever the other sites did.
    expect(outage(outcome("lon", "absent"), outcome("nyc", "absent"), outcome("sfo", "unreachable"))).toBe(
      false,
    );
    expect(outage(outcome("lon", "absent"), outcome("nyc", "checksum-mismatch"))).toBe(false);
    expect(outage(outcome("lon", "absent"), outcome("nyc", "error"))).toBe(false);
    expect(outage()).toBe(false);
  });

  it("jitters within half of the delay", () => {
    const decision = afterFailure(counted(2), now, options, () => 0.999);
    if (decision.kind !== "retry") throw new Error("expected a retry");
    const waited = decision.nextAttemptAt.getTime() - now.getTime();
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(2000);
  });

  it("tries the local store, then the origin, then the other sites", () => {
    expect(
      copySources({
        localSite: "lon",
        originSite: "nyc",
        originKey: "o",
        localKey: "l",
        sites: ["nyc", "lon", "sfo"],
      }),
    ).toEqual([
      { site: "lon", key: "l" },
      { site: "nyc", key: "o" },
      { site: "sfo", key: "l" },
    ]);
  });

  it("for a local call only looks in the site's own store, under both keys when they differ", () => {
    expect(
      copySources({
        localSite: "lon",
        originSite: "lon",
        originKey: "l",
        localKey: "l",
        sites: ["lon", "nyc"],
      }),
    ).toEqual([
      { site: "lon", key: "l" },
      { site: "nyc", key: "l" },
    ]);
    expect(
      copySources({ localSite: "lon", originSite: "lon", originKey: "o", localKey: "l", sites: ["lon"] }),
    ).toEqual([
      { site: "lon", key: "l" },
      { site: "lon", key: "o" },
    ]);
  });

  it("skips an origin that is not in the topology", () => {
    expect(
      copySources({
        localSite: "lon",
        originSite: "gone",
        originKey: "o",
        localKey: "l",
        sites: ["lon", "nyc"],
      }),
    ).toEqual([
      { site: "lon", key: "l" },
      { site: "nyc", key: "l" },
    ]);
  });

  it("names every source and its outcome in the failure reason", () => {
    expect(
      failureReason([
        { site: "lon", key: "l", outcome: "absent" },
        { site: "nyc", key: "o", outcome: "checksum-mismatch", detail: "cached sha256 x" },
        { site: "sfo", key: "l", outcome: "unverified", detail: "socket hang up" },
      ]),
    ).toBe(
      "lon:l absent; nyc:o checksum-mismatch (cached sha256 x); sfo:l not yet verified (socket hang up)",
    );
  });
});
