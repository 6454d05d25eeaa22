import { describe, expect, it } from "vitest";
import type { CallCompleted, UserChanged } from "@tandem/events";
import { callRow, planBatch, type SourcedEvent } from "../../../services/materializer/src/core/batch";

const TENANT = "5f8c1a2e-9b7d-4c3e-8a1f-2d3e4f5a6b7c";

function call(callId: string, audio = true): CallCompleted {
  return {
    eventId: `e-${callId}`,
    callId,
    tenantId: TENANT,
    groupId: "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5",
    participantUserIds: [],
    originSite: "nyc",
    recorderId: "rec",
    direction: "INBOUND",
    caller: { number: "1", name: null },
    callee: { number: "2", name: "B" },
    startedAtMs: Date.UTC(2026, 0, 2, 3),
    endedAtMs: Date.UTC(2026, 0, 2, 4),
    durationMs: 3_600_000,
    audio: audio
      ? {
          objectKey: "k",
          sizeBytes: 1,
          sha256: "a".repeat(64),
          contentType: "audio/wav",
          codec: "pcm",
          channels: 1,
          sampleRateHz: 8000,
        }
      : null,
    attributes: {},
  };
}

function user(userId: string, eventId: string): UserChanged {
  return {
    eventId,
    userId,
    tenantId: TENANT,
    groupId: TENANT,
    operation: "UPSERT",
    changedFields: ["name"],
    fields: { name: eventId, email: null, extensions: null, role: null, active: null },
    hlc: { wallTimeMs: 1, logical: 0 },
    baseVersion: {},
    originSite: "nyc",
  };
}

const at = (offset: number, topic = "nyc.calls.completed") => ({
  topic,
  partition: 0,
  offset: String(offset),
});

describe("batch planning", () => {
  it("keeps one row per call, from its first record, in call id order", () => {
    const events: SourcedEvent[] = [
      {
        record: at(5),
        event: { kind: "CallCompleted", event: call("00000000-0000-4000-8000-00000000000b") },
      },
      {
        record: at(6),
        event: { kind: "CallCompleted", event: call("00000000-0000-4000-8000-00000000000a") },
      },
      {
        record: at(7),
        event: { kind: "CallCompleted", event: call("00000000-0000-4000-8000-00000000000b") },
      },
    ];
    const plan = planBatch(events);
    expect(plan.calls.map((c) => [c.callId.slice(-1), c.sourceOffset])).toEqual([
      ["a", 6],
      ["b", 5],
    ]);
  });

  it("groups user events by user in id order without duplicate events", () => {
    const u1 = "00000000-0000-4000-8000-000000000002";
    const u2 = "00000000-0000-4000-8000-000000000001";
    const plan = planBatch([
      { record: at(1, "users.changed"), event: { kind: "UserChanged", event: user(u1, "x") } },
      { record: at(3, "users.changed"), event: { kind: "UserChanged", event: user(u2, "y") } },
      { record: at(4, "users.changed"), event: { kind: "UserChanged", event: user(u1, "x") } },
      { record: at(5, "users.changed"), event: { kind: "UserChanged", event: user(u1, "z") } },
    ]);
    expect(plan.users.map((u) => [u.userId, u.events.map((e) => e.eventId)])).toEqual([
      [u2, ["y"]],
      [u1, ["x", "z"]],
    ]);
  });

  it("maps a call with audio to a pending row under the local key, and one without to 'none'", () => {
    const id = "00000000-0000-4000-8000-00000000000c";
    const withAudio = callRow(call(id), at(9));
    expect(withAudio).toMatchObject({
      audioState: "pending",
      localObjectKey: `tenants/${TENANT}/2026/01/02/${id}.wav`,
      audioSha256: "a".repeat(64),
      sourceTopic: "nyc.calls.completed",
      sourceOffset: 9,
    });
    expect(callRow(call(id, false), at(9))).toMatchObject({ audioState: "none", localObjectKey: null });
  });
});
