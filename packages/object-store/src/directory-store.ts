import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { HashingStream, VerifyingStream, assertSafeKey } from "./hashing";
import { ObjectStoreError, type ObjectStore, type PutOptions, type StoredObject } from "./port";

/**
 * A local or NAS directory as object store. Each object has a `.sha256` sidecar written after it;
 * an object without its sidecar is an interrupted write and counts as absent.
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
      if (options.expectedSha256 !== undefined && sha256 !== options.expectedSha256) {
        throw new ObjectStoreError(
          "checksum-mismatch",
          `${key}: sha256 ${sha256}, expected ${options.expectedSha256}`,
        );
      }
      const stored = { key, sizeBytes: hashing.sizeBytes, sha256 };
      await fs.promises.rename(temporary, target);
      await fs.promises.writeFile(`${target}.sha256`, JSON.stringify(stored));
      return stored;
    } finally {
      await fs.promises.rm(temporary, { force: true });
    }
  }

  async get(key: string, options: { verifySha256?: string } = {}): Promise<Readable> {
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
    return options.verifySha256 === undefined
      ? stream
      : stream.pipe(new VerifyingStream(options.verifySha256, key));
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const file = this.pathOf(key);
    try {
      const stored = JSON.parse(await fs.promises.readFile(`${file}.sha256`, "utf8")) as StoredObject;
      const stat = await fs.promises.stat(file);
      return stat.size === stored.sizeBytes ? stored : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new ObjectStoreError("unreachable", `${key}: ${(error as Error).message}`, { cause: error });
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    await fs.promises.rm(`${file}.sha256`, { force: true });
    await fs.promises.rm(file, { force: true });
  }

  close(): void {}
}
