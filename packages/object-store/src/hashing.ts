import { createHash } from "node:crypto";
import { Transform, pipeline, type Readable, type TransformCallback } from "node:stream";
import { ObjectStoreError } from "./port";

/** Passes bytes through while hashing them, so a file is hashed in the same pass that stores it. */
export class HashingStream extends Transform {
  private readonly hash = createHash("sha256");
  sizeBytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.sizeBytes += chunk.length;
    callback(null, chunk);
  }

  digest(): string {
    return this.hash.digest("hex");
  }
}

/** A put's bytes must hash to the sha256 its caller expects, when it expects one. */
export function assertExpectedSha256(key: string, sha256: string, expected: string | undefined): void {
  if (expected !== undefined && sha256 !== expected) {
    throw new ObjectStoreError("checksum-mismatch", `${key}: sha256 ${sha256}, expected ${expected}`);
  }
}

/** Passes bytes through and fails at the end when they do not hash to `expected`. */
export class VerifyingStream extends Transform {
  private readonly hash = createHash("sha256");

  constructor(
    private readonly expected: string,
    private readonly key: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const actual = this.hash.digest("hex");
    if (actual === this.expected) callback();
    else
      callback(
        new ObjectStoreError("checksum-mismatch", `${this.key}: sha256 ${actual}, expected ${this.expected}`),
      );
  }
}

/**
 * `source` piped into `through`; unlike `pipe`, a failing source (a verified read that mismatched, a
 * dropped connection) fails the returned stream, so whoever consumes it stops instead of waiting for its end.
 */
export function piped<T extends Transform>(source: Readable, through: T): T {
  pipeline(source, through, () => {});
  return through;
}

/** `source` failing at its end unless its bytes hash to `expected`. */
export function verified(source: Readable, expected: string, key: string): Readable {
  return piped(source, new VerifyingStream(expected, key));
}

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/**
 * Keys are relative paths whose segments start with a letter or digit: no `..`, no absolute path,
 * nothing to escape a prefix with.
 */
export function assertSafeKey(key: string): void {
  if (!SAFE_KEY.test(key)) {
    throw new ObjectStoreError("invalid-key", `object key ${JSON.stringify(key)} is not a safe relative key`);
  }
}
