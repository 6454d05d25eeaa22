import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ObjectStoreError, type ObjectHead, type ObjectStore } from "./port";

/**
 * Proves that an existing object holds the bytes whose sha256 is `expected`: a checksum the store cached
 * answers at once, otherwise the object is read through and hashed (streamed, never held whole). Throws
 * a checksum-mismatch ObjectStoreError when the bytes are others.
 */
export async function assertSha256(store: ObjectStore, head: ObjectHead, expected: string): Promise<void> {
  if (head.sha256 !== undefined) {
    if (head.sha256 === expected) return;
    throw new ObjectStoreError(
      "checksum-mismatch",
      `${head.key}: cached sha256 ${head.sha256}, expected ${expected}`,
    );
  }
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  await pipeline((await store.get(head.key, { verifySha256: expected })).body, discard);
}
