import { describe, expect, it } from "vitest";
import { DEFAULT_TUNING } from "@tandem/config";
import { chunkBySize, recordBytes } from "../../../services/bridge/src/core/batching";

const record = (topic: string, valueBytes: number, i: number) => ({
  topic,
  key: `k${i}`,
  value: Buffer.alloc(valueBytes, 1),
  headers: { "tandem-path": "nyc,lon" },
});

describe("request batching", () => {
  it("splits a large fetched batch into requests under the size limit, keeping the order", () => {
    const records = Array.from({ length: 30 }, (_, i) => record("nyc.calls.completed", 100_000, i));
    const requests = chunkBySize(records, 512 * 1024);
    expect(requests.length).toBeGreaterThan(5);
    for (const request of requests) {
      const bytes = request.flatMap((t) => t.messages).reduce((sum, m) => sum + recordBytes(m), 0);
      expect(bytes).toBeLessThanOrEqual(512 * 1024);
    }
    expect(requests.flatMap((r) => r.flatMap((t) => t.messages.map((m) => m.key)))).toEqual(
      records.map((r) => r.key),
    );
  });

  it("keeps a small batch in one request, grouped by topic", () => {
    const records = [record("a", 10, 0), record("b", 10, 1), record("a", 10, 2)];
    expect(chunkBySize(records, DEFAULT_TUNING.bridge.maxRequestBytes)).toEqual([
      [
        { topic: "a", messages: [records[0]!, records[2]!].map(({ topic: _t, ...m }) => m) },
        { topic: "b", messages: [records[1]!].map(({ topic: _t, ...m }) => m) },
      ],
    ]);
  });

  it("sends a record larger than the limit alone rather than never", () => {
    const requests = chunkBySize([record("a", 10, 0), record("a", 2_000_000, 1), record("a", 10, 2)], 1000);
    expect(requests.map((r) => r[0]!.messages.length)).toEqual([1, 1, 1]);
  });
});
