import { describe, expect, it } from "vitest";
import { dlqMessageForRecord } from "../../../services/materializer/src/consumer/dlq";

describe("DLQ records", () => {
  it("keep key, value and original headers, and say why and where", () => {
    const value = Buffer.from([1, 2, 3]);
    const message = dlqMessageForRecord(
      {
        topic: "nyc.calls.completed",
        partition: 2,
        offset: "41",
        key: Buffer.from("k"),
        value,
        headers: { "tandem-origin": Buffer.from("nyc") },
      },
      "no-magic-byte at ...",
      "lon",
    );
    expect(message.value).toBe(value);
    expect(message.headers).toEqual({
      "tandem-origin": Buffer.from("nyc"),
      "tandem-dlq-reason": "no-magic-byte at ...",
      "tandem-dlq-site": "lon",
      "tandem-dlq-component": "materializer lon",
      "tandem-dlq-source-topic": "nyc.calls.completed",
      "tandem-dlq-source-partition": "2",
      "tandem-dlq-source-offset": "41",
    });
  });
});
