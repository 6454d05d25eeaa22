import type { CallCompleted, UserChanged } from "@tandem/events";

/** A call with every optional part present, so that nested records are exercised. */
export function sampleCall(overrides: Partial<CallCompleted> = {}): CallCompleted {
  return {
    eventId: "0b9c6f0e-3f0a-4d55-8a57-6a3f1e0f2c11",
    callId: "5f0e8a4c-1d2b-4c3d-9e4f-a1b2c3d4e5f6",
    tenantId: "8d7c6b5a-4e3f-4a1b-8c9d-0e1f2a3b4c5d",
    groupId: "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
    participantUserIds: ["2b3c4d5e-6f7a-4b9c-8d1e-2f3a4b5c6d7e", "3c4d5e6f-7a8b-4c0d-9e2f-3a4b5c6d7e8f"],
    originSite: "nyc",
    recorderId: "rec-nyc-01",
    direction: "INBOUND",
    caller: { number: "+15551230000", name: "Alice Caller" },
    callee: { number: "2001", name: "Support Desk" },
    startedAtMs: 1_700_000_000_000,
    endedAtMs: 1_700_000_095_500,
    durationMs: 95_500,
    audio: {
      objectKey:
        "tenants/8d7c6b5a-4e3f-4a1b-8c9d-0e1f2a3b4c5d/2023/11/14/5f0e8a4c-1d2b-4c3d-9e4f-a1b2c3d4e5f6.wav",
      sizeBytes: 3_056_044,
      sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      contentType: "audio/wav",
      codec: "pcm_s16le",
      channels: 2,
      sampleRateHz: 8000,
    },
    attributes: { queue: "support", language: "en" },
    ...overrides,
  };
}

/** An upsert with every field set, so that nullable branches hold values. */
export function sampleUser(overrides: Partial<UserChanged> = {}): UserChanged {
  return {
    eventId: "4d5e6f7a-8b9c-4d1e-8f3a-4b5c6d7e8f9a",
    userId: "2b3c4d5e-6f7a-4b9c-8d1e-2f3a4b5c6d7e",
    tenantId: "8d7c6b5a-4e3f-4a1b-8c9d-0e1f2a3b4c5d",
    groupId: "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
    operation: "UPSERT",
    changedFields: ["name", "email", "extensions", "role", "active"],
    fields: {
      name: "Bob Agent",
      email: "bob@example.com",
      extensions: ["2001", "2002"],
      role: "agent",
      active: true,
    },
    hlc: { wallTimeMs: 1_700_000_000_000, logical: 2 },
    baseVersion: {
      nyc: { wallTimeMs: 1_699_999_000_000, logical: 0 },
      lon: { wallTimeMs: 1_699_998_000_000, logical: 5 },
    },
    originSite: "nyc",
    ...overrides,
  };
}
