import type { Readable } from "node:stream";

export interface StoredObject {
  key: string;
  sizeBytes: number;
  sha256: string;
}

export interface PutOptions {
  contentType?: string;
  /** When given, the object is only committed if the streamed bytes hash to it. */
  expectedSha256?: string;
}

/**
 * The object store port: an S3 bucket or a local/NAS directory. Objects are written whole or not at all
 * (a failed or mismatching upload leaves nothing under the key), and their sha256 is kept beside them.
 */
export interface ObjectStore {
  readonly description: string;
  put(key: string, body: Readable, options?: PutOptions): Promise<StoredObject>;
  /** The object's bytes; with `verifySha256` the stream fails at its end when the bytes do not match. */
  get(key: string, options?: { verifySha256?: string }): Promise<Readable>;
  /** Size and recorded sha256, or undefined when there is no such object. */
  head(key: string): Promise<StoredObject | undefined>;
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
