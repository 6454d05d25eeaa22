import { describe, expect, it } from "vitest";
import { DecodeError, EventCodec, UnsupportedTopicError, ValidationError } from "@tandem/events";
import { sampleCall } from "./fixtures";

// Nothing listens here: these cases must be decided without asking the registry.
const codec = new EventCodec({ host: "http://127.0.0.1:9/apis/ccompat/v7" });
const at = { topic: "nyc.calls.completed", partition: 3, offset: "42" };

describe("EventCodec without a registry", () => {
  it.each([
    ["no-magic-byte", Buffer.from('{"callId":1}')],
    ["truncated", Buffer.from([0, 0, 0])],
    ["truncated", Buffer.alloc(0)],
    ["truncated", null],
  ] as const)("rejects %s input with the record's coordinates", async (kind, value) => {
    const error = await codec.decode(value, at).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect(error).toMatchObject({ kind, topic: "nyc.calls.completed", partition: 3, offset: "42" });
    expect((error as Error).message).toContain("nyc.calls.completed/3@42");
  });

  it("refuses to encode an invalid event", async () => {
    await expect(codec.encode("calls.completed", sampleCall({ durationMs: -5 }))).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it("refuses a topic that carries no event", async () => {
    await expect(codec.encode("tandem.heartbeats", sampleCall())).rejects.toBeInstanceOf(
      UnsupportedTopicError,
    );
    expect(() => codec.register("tandem.dlq")).toThrow(UnsupportedTopicError);
  });
});
