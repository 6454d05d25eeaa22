import { describe, expect, it } from "vitest";
import { assessLink, DEFAULT_THRESHOLDS, formatStatus, type SiteReport } from "@tandem/operations";
import { LINK_PATTERN } from "../../../services/cli/src/commands/replicate";

const fresh = { scheduleOpen: true, lagRecords: 0, heartbeatAgeSeconds: 2, recordsLost: 0 };

describe("link health for monitoring", () => {
  it("is ok when caught up with a fresh heartbeat", () => {
    expect(assessLink(fresh, DEFAULT_THRESHOLDS).health).toBe("ok");
  });

  it("is paused, not alarming, outside its schedule whatever its lag", () => {
    expect(assessLink({ ...fresh, scheduleOpen: false, lagRecords: 1e6 }, DEFAULT_THRESHOLDS).health).toBe(
      "paused",
    );
  });

  it("is down when the source cannot be asked, or no heartbeat came through lately", () => {
    expect(assessLink({ ...fresh, lagRecords: undefined }, DEFAULT_THRESHOLDS)).toEqual({
      health: "down",
      why: "source cluster unreachable",
    });
    expect(assessLink({ ...fresh, heartbeatAgeSeconds: undefined }, DEFAULT_THRESHOLDS).health).toBe("down");
    expect(assessLink({ ...fresh, heartbeatAgeSeconds: 61 }, DEFAULT_THRESHOLDS).why).toBe(
      "last heartbeat 61s ago",
    );
  });

  it("is behind past the record or seconds threshold", () => {
    const thresholds = { ...DEFAULT_THRESHOLDS, maxLagRecords: 100, maxLagSeconds: 10 };
    expect(assessLink({ ...fresh, lagRecords: 101 }, thresholds)).toEqual({
      health: "behind",
      why: "101 records behind",
    });
    expect(assessLink({ ...fresh, heartbeatAgeSeconds: 30 }, thresholds).health).toBe("behind");
  });

  it("is data-lost while records it never read are unacknowledged, even caught up or paused", () => {
    expect(assessLink({ ...fresh, recordsLost: 40 }, DEFAULT_THRESHOLDS)).toEqual({
      health: "data-lost",
      why: "40 records deleted before it read them: tandem repair, then tandem gaps --ack",
    });
    expect(assessLink({ ...fresh, scheduleOpen: false, recordsLost: 1 }, DEFAULT_THRESHOLDS).health).toBe(
      "data-lost",
    );
  });
});

describe("link names on the command line", () => {
  it("accepts from->to and from-to, and nothing else", () => {
    expect(LINK_PATTERN.exec("nyc->lon")?.slice(1)).toEqual(["nyc", "lon"]);
    expect(LINK_PATTERN.exec("nyc-lon")?.slice(1)).toEqual(["nyc", "lon"]);
    expect(LINK_PATTERN.exec("nyc")).toBeNull();
    expect(LINK_PATTERN.exec("NYC->lon")).toBeNull();
  });
});

describe("status as printed", () => {
  it("shows each site's audio copies still to make, with how long the oldest has waited", () => {
    const site = (id: string, audio: SiteReport["audio"]): SiteReport => ({
      site: id,
      kafkaReachable: true,
      dlqRecords: 0,
      openConflicts: 0,
      audio,
      gaps: [],
    });
    const lines = formatStatus({
      at: "2026-12-06T03:00:00.000Z",
      healthy: true,
      sites: [
        site("nyc", { pending: 0, oldestPendingSeconds: undefined }),
        site("lon", { pending: 12, oldestPendingSeconds: 3600.4 }),
        site("sfo", undefined),
      ],
      links: [],
    });
    expect(lines[0]).toMatch(/AUDIO-PENDING$/);
    expect(lines[1]).toMatch(/^nyc .* 0$/);
    expect(lines[2]).toMatch(/^lon .* 12 \(oldest 3600s\)$/);
    expect(lines[3]).toMatch(/^sfo .* -$/);
  });

  it("shows a link's cap beside its schedule, and each scheduled stream's state and next change", () => {
    const lines = formatStatus({
      at: "2026-12-06T03:00:00.000Z",
      healthy: true,
      sites: [
        { site: "nyc", kafkaReachable: true, dlqRecords: 0, openConflicts: 0, audio: undefined, gaps: [] },
      ],
      links: [
        {
          link: "nyc->lon",
          schedule: "calls: continuous; users: 22:00-06:00 Europe/London",
          streams: [
            { stream: "calls", schedule: "continuous", open: true, nextChange: undefined },
            {
              stream: "users",
              schedule: "22:00-06:00 Europe/London",
              open: false,
              nextChange: "2026-12-06T22:00:00.000Z",
            },
          ],
          cap: "10mbit",
          delivery: "at-least-once",
          health: "ok",
          why: "",
          lagRecords: 0,
          lastHeartbeatAt: "2026-12-06T02:59:58.000Z",
          heartbeatAgeSeconds: 2,
          retentionRisks: [],
        },
      ],
    });
    expect(lines).toContain(
      "nyc->lon     ok         0             2026-12-06T02:59:58Z (2s) calls: continuous; users: 22:00-06:00 Europe/London  cap 10mbit",
    );
    expect(lines.slice(lines.indexOf("STREAM SCHEDULES"))).toEqual([
      "STREAM SCHEDULES",
      "  nyc->lon     calls  open    continuous",
      "  nyc->lon     users  closed  22:00-06:00 Europe/London  opens 2026-12-06T22:00Z",
    ]);
  });
});
