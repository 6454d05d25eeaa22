import type { Readable } from "node:stream";

export interface StoredObject {
  key: string;
  sizeBytes: number;
  sha256: string;
}

/**
 * What a store knows of an object without reading it. `sha256` is a checksum the store verified itself
 * and cached (Tandem's own writes); it is unknown for an object another client wrote, whose bytes must
 * then be hashed to know it.
 */
export interface ObjectHead {
  key: string;
  sizeBytes: number;
  sha256?: string;
}

/** An object read: what the store knows of it and its bytes, from one request. */
export interface ObjectRead {
  head: ObjectHead;
  body: Readable;
}

export interface PutOptions {
  contentType?: string;
  /** When given, the object is only committed if the streamed bytes hash to it. */
  expectedSha256?: string;
}

/**
 * The object store port: an S3 bucket or a local/NAS directory. Objects are written whole or not at all
 * (a failed or mismatching upload leaves nothing under the key), and the sha256 of what Tandem writes is
 * cached beside it. Objects written by any other client are valid too: their bytes are what counts.
 */
export interface ObjectStore {
  readonly description: string;
  put(key: string, body: Readable, options?: PutOptions): Promise<StoredObject>;
  /**
   * The object's head and bytes in one request (a far store costs a round trip each); with `verifySha256`
   * the stream fails at its end when the bytes do not match.
   */
  get(key: string, options?: { verifySha256?: string }): Promise<ObjectRead>;
  /** Size and cached sha256 if any, or undefined when there is no such object. */
  head(key: string): Promise<ObjectHead | undefined>;
  delete(key: string): Promise<void>;
  close(): void;
}

export class ObjectStoreError extends Error {
  constructor(
    readonly kind: "not-found" | "checksum-mismatch" | "invalid-key" | "unreachable",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ObjectStoreError";
  }
}
