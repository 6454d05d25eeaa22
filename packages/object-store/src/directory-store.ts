import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { HashingStream, assertExpectedSha256, assertSafeKey, verified } from "./hashing";
import { ObjectStoreError } from "./port";
import type { ObjectHead, ObjectRead, ObjectStore, PutOptions, StoredObject } from "./port";

/**
 * A local or NAS directory as object store. A put renames the complete file into place, then writes a
 * `.sha256` sidecar caching its checksum. A file without a valid sidecar (another writer's, or a put
 * interrupted between the two steps) is still an object, whose checksum is unknown until it is read.
 */
export class DirectoryObjectStore implements ObjectStore {
  readonly description: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.description = `directory ${this.root}`;
  }

  private pathOf(key: string): string {
    assertSafeKey(key);
    return path.join(this.root, key);
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<StoredObject> {
    const target = this.pathOf(key);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    const temporary = `${target}.partial-${randomUUID()}`;
    const hashing = new HashingStream();
    try {
      await pipeline(body, hashing, fs.createWriteStream(temporary, { flags: "wx" }));
      const sha256 = hashing.digest();
      assertExpectedSha256(key, sha256, options.expectedSha256);
      const stored = { key, sizeBytes: hashing.sizeBytes, sha256 };
      await fs.promises.rename(temporary, target);
      const { mtimeMs } = await fs.promises.stat(target);
      await fs.promises.writeFile(`${target}.sha256`, JSON.stringify({ ...stored, mtimeMs }));
      return stored;
    } finally {
      await fs.promises.rm(temporary, { force: true });
    }
  }

  async get(key: string, options: { verifySha256?: string } = {}): Promise<ObjectRead> {
    const head = await this.head(key);
    if (head === undefined)
      throw new ObjectStoreError("not-found", `${key}: no such object in ${this.description}`);
    const file = this.pathOf(key);
    const stream = fs.createReadStream(file);
    await new Promise<void>((resolve, reject) => {
      stream.once("open", () => resolve());
      stream.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          error.code === "ENOENT"
            ? new ObjectStoreError("not-found", `${key}: no such object in ${this.description}`)
            : new ObjectStoreError("unreachable", `${key}: ${error.message}`, { cause: error }),
        ),
      );
    });
    return {
      head,
      body: options.verifySha256 === undefined ? stream : verified(stream, options.verifySha256, key),
    };
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    const file = this.pathOf(key);
    try {
      const stat = await fs.promises.stat(file);
      const cached = await this.cachedSha256(file, stat);
      return { key, sizeBytes: stat.size, ...(cached === undefined ? {} : { sha256: cached }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new ObjectStoreError("unreachable", `${key}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * The sidecar's checksum when it describes this very file (same size and modification time: a file
   * another writer replaced is hashed again); a missing, foreign or stale sidecar caches nothing.
   */
  private async cachedSha256(file: string, stat: fs.Stats): Promise<string | undefined> {
    let sidecar: string;
    try {
      sidecar = await fs.promises.readFile(`${file}.sha256`, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    try {
      const cached = JSON.parse(sidecar) as Partial<StoredObject & { mtimeMs: number }>;
      const current = cached.sizeBytes === stat.size && cached.mtimeMs === stat.mtimeMs;
      return current && typeof cached.sha256 === "string" ? cached.sha256 : undefined;
    } catch {
      return undefined;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    await fs.promises.rm(`${file}.sha256`, { force: true });
    await fs.promises.rm(file, { force: true });
  }

  close(): void {}
}
