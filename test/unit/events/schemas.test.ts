import { describe, expect, it } from "vitest";
import {
  CALLS_TOPIC,
  DLQ_TOPIC,
  HEARTBEATS_TOPIC,
  USERS_TOPIC,
  callCompletedSchema,
  eventKindForTopic,
  subjectFor,
  userChangedSchema,
} from "@tandem/events";

describe("schemas and topics", () => {
  it("loads both schemas from schemas/", () => {
    expect([callCompletedSchema.name, userChangedSchema.name]).toEqual(["CallCompleted", "UserChanged"]);
    expect([callCompletedSchema.namespace, userChangedSchema.namespace]).toEqual([
      "io.tandem.events",
      "io.tandem.events",
    ]);
  });

  it("names subjects after topics", () => {
    expect(subjectFor(CALLS_TOPIC)).toBe("calls.completed-value");
    expect(subjectFor("nyc.users.changed")).toBe("nyc.users.changed-value");
  });

  it("finds the event of local and remote topics only", () => {
    expect(eventKindForTopic(CALLS_TOPIC)).toBe("CallCompleted");
    expect(eventKindForTopic("nyc.calls.completed")).toBe("CallCompleted");
    expect(eventKindForTopic(USERS_TOPIC)).toBe("UserChanged");
    expect(eventKindForTopic("lon-2.users.changed")).toBe("UserChanged");
    for (const topic of [
      HEARTBEATS_TOPIC,
      DLQ_TOPIC,
      "calls.completed.x",
      "a.b.calls.completed",
      "NYC.calls.completed",
    ]) {
      expect(eventKindForTopic(topic)).toBeUndefined();
    }
  });
});
