import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, describe, expect, it } from "vitest";
import {
  DirectoryObjectStore,
  ObjectStoreError,
  S3ObjectStore,
  assertSha256,
  type ObjectStore,
} from "@tandem/object-store";
import { stack } from "../support/stack";

const site = (await stack()).sites[0]!;
const directory = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-store-"));
const s3Prefix = `test-${randomUUID()}`;
const plainS3 = new S3Client({
  endpoint: site.objectStore.endpoint,
  region: site.objectStore.region,
  forcePathStyle: true,
  credentials: site.objectStore,
  requestChecksumCalculation: "WHEN_REQUIRED",
});

/** Writes `bytes` under `key` as another program would: no Tandem checksum cached beside them. */
type ForeignWrite = (key: string, bytes: Buffer) => Promise<void>;
const stores: Array<[string, ObjectStore, ForeignWrite]> = [
  [
    "S3 (S3Proxy)",
    new S3ObjectStore({ ...site.objectStore, prefix: s3Prefix }),
    async (key, bytes) => {
      await plainS3.send(
        new PutObjectCommand({ Bucket: site.objectStore.bucket, Key: `${s3Prefix}/${key}`, Body: bytes }),
      );
    },
  ],
  [
    "directory",
    new DirectoryObjectStore(directory),
    async (key, bytes) => {
      await fs.promises.mkdir(path.dirname(path.join(directory, key)), { recursive: true });
      await fs.promises.writeFile(path.join(directory, key), bytes);
    },
  ],
];

afterAll(() => {
  for (const [, store] of stores) store.close();
  plainS3.destroy();
  fs.rmSync(directory, { recursive: true, force: true });
});

/** A deterministic stream of `size` bytes that is never held in memory whole. */
function generated(size: number, seed: number): { stream: Readable; sha256: string } {
  const chunk = (i: number) => Buffer.alloc(Math.min(64 * 1024, size - i * 64 * 1024), (seed + i) % 251);
  const hash = createHash("sha256");
  const chunks = Math.ceil(size / (64 * 1024));
  for (let i = 0; i < chunks; i++) hash.update(chunk(i));
  return {
    stream: Readable.from(
      (function* () {
        for (let i = 0; i < chunks; i++) yield chunk(i);
      })(),
    ),
    sha256: hash.digest("hex"),
  };
}

/** A source that yields `size` bytes, then fails as a dropped connection would. */
function failingAfter(size: number): Readable {
  return Readable.from(
    (async function* () {
      yield generatedBytes(size);
      throw new Error("connection reset by the source");
    })(),
  );
}

function generatedBytes(size: number): Buffer {
  return Buffer.alloc(size, 0x5a);
}

/** Bodies on each side of the S3 store's single-request limit (one 8 MiB part). */
const ONE_PART = 100 * 1024;
const SEVERAL_PARTS = 9 * 1024 * 1024;

describe.each(stores)("%s object store", (_name, store, writeForeign) => {
  it("stores a large object in one streamed pass and returns its size and sha256", async () => {
    const size = 20 * 1024 * 1024 + 123;
    const { stream, sha256 } = generated(size, 7);
    const key = `calls/${randomUUID()}.wav`;
    const stored = await store.put(key, stream, { contentType: "audio/wav" });
    expect(stored).toEqual({ key, sizeBytes: size, sha256 });
    expect(await store.head(key)).toEqual({ key, sizeBytes: size, sha256 });
    const read = await store.get(key, { verifySha256: sha256 });
    expect(read.head).toEqual({ key, sizeBytes: size, sha256 });
    const back = createHash("sha256");
    for await (const chunk of read.body) back.update(chunk as Buffer);
    expect(back.digest("hex")).toBe(sha256);
  });

  it("refuses bytes that do not match the expected sha256 and leaves nothing under the key", async () => {
    const key = `calls/${randomUUID()}.wav`;
    const put = store.put(key, Readable.from([Buffer.from("not the audio")]), {
      expectedSha256: "0".repeat(64),
    });
    await expect(put).rejects.toMatchObject({ kind: "checksum-mismatch" });
    expect(await store.head(key)).toBeUndefined();
  });

  it("refuses a body of several parts that does not match the expected sha256 and leaves nothing", async () => {
    const key = `calls/${randomUUID()}.wav`;
    const { stream } = generated(SEVERAL_PARTS, 3);
    await expect(store.put(key, stream, { expectedSha256: "0".repeat(64) })).rejects.toMatchObject({
      kind: "checksum-mismatch",
    });
    expect(await store.head(key)).toBeUndefined();
  });

  it.each([ONE_PART, SEVERAL_PARTS])(
    "leaves nothing under the key when the source fails after %i bytes",
    async (size) => {
      const key = `calls/${randomUUID()}.wav`;
      await expect(store.put(key, failingAfter(size))).rejects.toThrow(/connection reset/);
      expect(await store.head(key)).toBeUndefined();
    },
  );

  it("fails a verified read whose bytes do not match", async () => {
    const key = `calls/${randomUUID()}.txt`;
    await store.put(key, Readable.from([Buffer.from("hello")]));
    await expect(text((await store.get(key, { verifySha256: "f".repeat(64) })).body)).rejects.toMatchObject({
      kind: "checksum-mismatch",
    });
    expect(await text((await store.get(key)).body)).toBe("hello");
  });

  it("holds an object another client wrote without metadata, valid by its bytes alone", async () => {
    const key = `calls/${randomUUID()}.wav`;
    const bytes = Buffer.from("audio from a recorder's own S3 client");
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    await writeForeign(key, bytes);
    const head = await store.head(key);
    expect(head).toEqual({ key, sizeBytes: bytes.length });
    const read = await store.get(key);
    read.body.destroy();
    expect(read.head).toEqual(head);
    await assertSha256(store, head!, sha256);
    await expect(assertSha256(store, head!, "0".repeat(64))).rejects.toMatchObject({
      kind: "checksum-mismatch",
    });
  });

  it("trusts a cached checksum only for what it wrote itself", async () => {
    const key = `calls/${randomUUID()}.wav`;
    const stored = await store.put(key, Readable.from([Buffer.from("first")]));
    await expect(assertSha256(store, (await store.head(key))!, stored.sha256)).resolves.toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeForeign(key, Buffer.from("other"));
    const head = await store.head(key);
    expect(head?.sha256).toBeUndefined();
    await expect(assertSha256(store, head!, stored.sha256)).rejects.toMatchObject({
      kind: "checksum-mismatch",
    });
  });

  it("reports a missing object as not-found", async () => {
    expect(await store.head(`calls/${randomUUID()}`)).toBeUndefined();
    await expect(store.get(`calls/${randomUUID()}`)).rejects.toBeInstanceOf(ObjectStoreError);
  });

  it.each(["../escape.wav", "/etc/passwd", "a/../../b", "a//b", ".hidden"])(
    "refuses the unsafe key %s",
    async (key) => {
      await expect(store.put(key, Readable.from([Buffer.from("x")]))).rejects.toMatchObject({
        kind: "invalid-key",
      });
    },
  );
});

describe("S3 object store puts", () => {
  it("leave nothing but the final objects, whether they succeed or fail, one part or several", async () => {
    const prefix = `test-${randomUUID()}`;
    const store = new S3ObjectStore({ ...site.objectStore, prefix });
    try {
      const small = generated(ONE_PART, 11);
      const large = generated(SEVERAL_PARTS, 12);
      await store.put("calls/small.wav", small.stream, { expectedSha256: small.sha256 });
      await store.put("calls/large.wav", large.stream, { expectedSha256: large.sha256 });
      await expect(store.put("calls/failed-small.wav", failingAfter(ONE_PART))).rejects.toThrow();
      await expect(store.put("calls/failed-large.wav", failingAfter(SEVERAL_PARTS))).rejects.toThrow();
      await expect(
        store.put("calls/mismatch.wav", generated(ONE_PART, 13).stream, { expectedSha256: small.sha256 }),
      ).rejects.toMatchObject({ kind: "checksum-mismatch" });

      const listed = await plainS3.send(
        new ListObjectsV2Command({ Bucket: site.objectStore.bucket, Prefix: `${prefix}/` }),
      );
      // S3Proxy's filesystem backend lists its directories too, as keys ending in a slash.
      const objects = (listed.Contents ?? []).map((object) => object.Key!).filter((k) => !k.endsWith("/"));
      expect(objects.sort()).toEqual([`${prefix}/calls/large.wav`, `${prefix}/calls/small.wav`]);
      expect(await store.head("calls/small.wav")).toEqual({
        key: "calls/small.wav",
        sizeBytes: ONE_PART,
        sha256: small.sha256,
      });
    } finally {
      store.close();
    }
  });
});
