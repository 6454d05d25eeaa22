import { describe, expect, it } from "vitest";
import { LagTracker, parseLinkLag } from "../../support/soak/lag";

const exposition = `# HELP tandem_link_lag_records Records at the source not yet forwarded (last fetched batch)
# TYPE tandem_link_lag_records gauge
tandem_link_lag_records{link="nyc->lon"} 42
tandem_link_lag_records{link="sfo->lon"} 0
# TYPE tandem_link_lag_seconds gauge
tandem_link_lag_seconds{link="nyc->lon"} 3.5
tandem_link_records_forwarded_total{link="nyc->lon"} 1000
tandem_bridge_process_cpu_seconds_total 1.2
`;

describe("link lag from /metrics", () => {
  it("reads records and seconds per link and ignores other samples", () => {
    expect(parseLinkLag(exposition)).toEqual(
      new Map([
        ["nyc->lon", { records: 42, seconds: 3.5 }],
        ["sfo->lon", { records: 0, seconds: 0 }],
      ]),
    );
  });

  it("finds the link label among others", () => {
    expect(parseLinkLag(`tandem_link_lag_records{instance="a",link="lon->nyc"} 7`).get("lon->nyc")).toEqual({
      records: 7,
      seconds: 0,
    });
  });

  it("keeps the largest lag seen per link and overall", () => {
    const tracker = new LagTracker();
    tracker.observe(parseLinkLag(exposition));
    tracker.observe(
      parseLinkLag(`tandem_link_lag_records{link="nyc->lon"} 5\ntandem_link_lag_seconds{link="sfo->lon"} 9`),
    );
    expect(tracker.byLink.get("nyc->lon")).toEqual({ records: 42, seconds: 3.5 });
    expect(tracker.max).toEqual({ records: 42, seconds: 9 });
  });
});
