import { describe, expect, it } from "vitest";
import { configAfterSync, remoteTopicConfig } from "../../../services/bridge/src/core/topic-configs";

describe("remoteTopicConfig", () => {
  it("keeps records for ever where the source inherits its broker's retention", () => {
    expect(remoteTopicConfig(new Map())).toEqual(new Map([["retention.ms", "-1"]]));
  });

  it("takes the source's own settings", () => {
    const source = new Map([
      ["retention.ms", "86400000"],
      ["cleanup.policy", "delete"],
    ]);
    expect(remoteTopicConfig(source)).toEqual(source);
  });
});

describe("configAfterSync", () => {
  it("changes nothing when the remote topic already has the wanted settings", () => {
    const wanted = new Map([["retention.ms", "-1"]]);
    expect(configAfterSync(wanted, new Map([["retention.ms", "-1"]]))).toBeUndefined();
  });

  it("applies a changed setting and keeps the target's other settings", () => {
    const wanted = new Map([["retention.ms", "3600000"]]);
    const target = new Map([
      ["retention.ms", "-1"],
      ["min.insync.replicas", "2"],
    ]);
    expect(configAfterSync(wanted, target)).toEqual(
      new Map([
        ["retention.ms", "3600000"],
        ["min.insync.replicas", "2"],
      ]),
    );
  });

  it("adds a setting the target does not set", () => {
    const wanted = new Map([
      ["retention.ms", "-1"],
      ["max.message.bytes", "2097152"],
    ]);
    expect(configAfterSync(wanted, new Map([["retention.ms", "-1"]]))).toEqual(wanted);
  });
});
