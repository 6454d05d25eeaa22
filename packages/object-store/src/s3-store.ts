import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { S3StoreConfig } from "@tandem/config";
import { HashingStream, assertExpectedSha256, assertSafeKey, piped, verified } from "./hashing";
import { ObjectStoreError } from "./port";
import type { ObjectHead, ObjectRead, ObjectStore, PutOptions, StoredObject } from "./port";

/** A site's S3 store as the topology describes it; a prefix confines every key below it. */
export type S3StoreOptions = Omit<S3StoreConfig, "kind"> & {
  /** Keys are written under this prefix; nothing can be written outside it. */
  prefix?: string;
};

/**
 * Where a put caches the sha256 it verified. A name of Tandem's own: metadata another client set (an
 * `x-amz-meta-sha256` in any format) is never taken for a verified checksum.
 */
const SHA256_METADATA = "tandem-verified-sha256";
const PART_SIZE = 8 * 1024 * 1024;

/** The body's first `limit` bytes or more, and the whole body again as a stream when it is longer. */
async function readUpTo(
  body: Readable,
  limit: number,
): Promise<{ complete: true; bytes: Buffer } | { complete: false; body: Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  while (size <= limit) {
    const next = await iterator.next();
    if (next.done) return { complete: true, bytes: Buffer.concat(chunks) };
    chunks.push(next.value);
    size += next.value.length;
  }
  async function* replayed() {
    yield* chunks;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  return { complete: false, body: Readable.from(replayed()) };
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? "";
  const name = (error as { name?: string }).name ?? "";
  return ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE"].includes(code) || name === "TimeoutError";
}

function translate(error: unknown, key: string, description: string): Error {
  if (error instanceof ObjectStoreError) return error;
  if (error instanceof NoSuchKey || error instanceof NotFound) {
    return new ObjectStoreError("not-found", `${key}: no such object in ${description}`, { cause: error });
  }
  if (isConnectionError(error)) {
    return new ObjectStoreError("unreachable", `${description} unreachable: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * An S3 bucket (AWS, MinIO, S3Proxy...). The final key never holds partial or mismatching bytes: an
 * object of up to one part (a call's recording, most often) is hashed in memory, then written to its key
 * in one request with the sha256 in its metadata and a Content-MD5 the store checks; a larger one streams
 * to a temporary key with multipart upload while hashing, then is copied server-side to the final key.
 * Objects uploaded by other S3 clients carry no such metadata and are read like any other; their
 * checksum is just unknown until their bytes are hashed.
 */
export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(config: S3StoreOptions) {
    this.bucket = config.bucket;
    this.prefix = config.prefix ? `${config.prefix.replace(/\/+$/, "")}/` : "";
    this.description = `s3://${config.bucket}/${this.prefix}${config.endpoint ? ` at ${config.endpoint}` : ""}`;
    this.client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle ?? true,
      credentials:
        config.accessKeyId && config.secretAccessKey
          ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }
          : undefined,
      // S3-compatible servers do not all accept the SDK's newer default checksum trailers.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 2,
    });
  }

  private objectKey(key: string): string {
    assertSafeKey(key);
    return `${this.prefix}${key}`;
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<StoredObject> {
    const finalKey = this.objectKey(key);
    let start;
    try {
      start = await readUpTo(body, PART_SIZE);
    } catch (error) {
      throw translate(error, key, this.description);
    }
    return start.complete
      ? this.putWhole(key, finalKey, start.bytes, options)
      : this.putStreamed(key, finalKey, start.body, options);
  }

  /** One request: three (upload, copy, delete) cost a store under load several times the time. */
  private async putWhole(
    key: string,
    finalKey: string,
    bytes: Buffer,
    options: PutOptions,
  ): Promise<StoredObject> {
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    assertExpectedSha256(key, sha256, options.expectedSha256);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: finalKey,
          Body: bytes,
          // The store refuses bytes that arrive other than they were hashed.
          ContentMD5: createHash("md5").update(bytes).digest("base64"),
          ContentType: options.contentType ?? "application/octet-stream",
          Metadata: { [SHA256_METADATA]: sha256 },
        }),
      );
      return { key, sizeBytes: bytes.length, sha256 };
    } catch (error) {
      throw translate(error, key, this.description);
    }
  }

  private async putStreamed(
    key: string,
    finalKey: string,
    body: Readable,
    options: PutOptions,
  ): Promise<StoredObject> {
    const temporaryKey = `${finalKey}.partial-${randomUUID()}`;
    const hashing = new HashingStream();
    try {
      await new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: temporaryKey, Body: piped(body, hashing) },
        partSize: PART_SIZE,
        queueSize: 2,
      }).done();
      const sha256 = hashing.digest();
      assertExpectedSha256(key, sha256, options.expectedSha256);
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: finalKey,
          CopySource: `${this.bucket}/${encodeURIComponent(temporaryKey).replaceAll("%2F", "/")}`,
          MetadataDirective: "REPLACE",
          Metadata: { [SHA256_METADATA]: sha256 },
          ContentType: options.contentType ?? "application/octet-stream",
        }),
      );
      return { key, sizeBytes: hashing.sizeBytes, sha256 };
    } catch (error) {
      throw translate(error, key, this.description);
    } finally {
      await this.client
        .send(new DeleteObjectCommand({ Bucket: this.bucket, Key: temporaryKey }))
        .catch(() => {});
    }
  }

  async get(key: string, options: { verifySha256?: string } = {}): Promise<ObjectRead> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      const stream = response.Body as Readable;
      const sha256 = response.Metadata?.[SHA256_METADATA];
      return {
        head: { key, sizeBytes: response.ContentLength ?? 0, ...(sha256 ? { sha256 } : {}) },
        body: options.verifySha256 === undefined ? stream : verified(stream, options.verifySha256, key),
      };
    } catch (error) {
      throw translate(error, key, this.description);
    }
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    try {
      const response = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      const sha256 = response.Metadata?.[SHA256_METADATA];
      return { key, sizeBytes: response.ContentLength ?? 0, ...(sha256 ? { sha256 } : {}) };
    } catch (error) {
      const translated = translate(error, key, this.description);
      if (translated instanceof ObjectStoreError && translated.kind === "not-found") return undefined;
      throw translated;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (error) {
      throw translate(error, key, this.description);
    }
  }

  close(): void {
    this.client.destroy();
  }
}
