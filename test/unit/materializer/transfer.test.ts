import { describe, expect, it } from "vitest";
import { afterFailure, copySources, failureReason } from "../../../services/materializer/src/core/transfer";

const options = { maxAttempts: 4, initialBackoffMs: 1000, maxBackoffMs: 5000 };
const now = new Date("2026-01-01T00:00:00Z");

describe("audio transfer decisions", () => {
  it("backs off exponentially up to the cap, then gives up at the budget", () => {
    const delay = (attempts: number) => {
      const decision = afterFailure(attempts, now, options, () => 0);
      return decision.kind === "retry" ? decision.nextAttemptAt.getTime() - now.getTime() : "fail";
    };
    expect([1, 2, 3, 4].map(delay)).toEqual([1000, 2000, 4000, "fail"]);
    expect(afterFailure(3, now, { ...options, maxAttempts: 10 }, () => 0)).toEqual({
      kind: "retry",
      nextAttemptAt: new Date(now.getTime() + 4000),
    });
    const capped = afterFailure(8, now, { ...options, maxAttempts: 10 }, () => 0);
    expect(capped).toEqual({ kind: "retry", nextAttemptAt: new Date(now.getTime() + 5000) });
  });

  it("jitters within half of the delay", () => {
    const decision = afterFailure(2, now, options, () => 0.999);
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
