import type { Readable } from "node:stream";
import { ObjectStoreError, assertSha256, type ObjectStore } from "@tandem/object-store";
import type { Throttle } from "@tandem/runtime";
import { copySources, type SourceOutcome } from "../core/transfer";
import type { ClaimedTransfer } from "../db/transfers";

export type CopyResult =
  { ok: true; bytesCopied: number; outcomes: SourceOutcome[] } | { ok: false; outcomes: SourceOutcome[] };

/**
 * What a failed source amounts to. An object that is there is never called absent: its bytes either
 * mismatched or could not be read through to the end (not yet verified).
 */
function outcomeOf(error: unknown, found: boolean): Pick<SourceOutcome, "outcome" | "detail"> {
  const detail = error instanceof Error ? error.message : String(error);
  const kind = error instanceof ObjectStoreError ? error.kind : undefined;
  if (kind === "checksum-mismatch") return { outcome: kind, detail };
  if (found) return { outcome: "unverified", detail };
  if (kind === "not-found") return { outcome: "absent", detail };
  if (kind === "unreachable") return { outcome: kind, detail };
  return { outcome: "error", detail };
}

/**
 * One attempt to get a verified copy of the call's audio into the local store: already there, else
 * streamed from each source in turn (verified on read and again on write). A mismatching copy is never
 * accepted: the next source is tried. Whatever metadata an object carries, its bytes decide: a checksum
 * a store cached saves reading them, and without one they are hashed.
 */
export async function copyAudio(
  transfer: ClaimedTransfer,
  localSite: string,
  stores: ReadonlyMap<string, ObjectStore>,
  /** Paces the copy to the cap of the link that brings the call's origin here. */
  throttle?: Throttle,
): Promise<CopyResult> {
  const local = stores.get(localSite);
  if (local === undefined) throw new Error(`no object store for the local site ${localSite}`);
  const outcomes: SourceOutcome[] = [];
  const sources = copySources({
    localSite,
    originSite: transfer.originSite,
    originKey: transfer.originKey,
    localKey: transfer.localKey,
    sites: [...stores.keys()],
  });
  for (const source of sources) {
    const store = stores.get(source.site);
    if (store === undefined) continue;
    const isTarget = source.site === localSite && source.key === transfer.localKey;
    let found = false;
    try {
      if (isTarget) {
        const head = await store.head(source.key);
        if (head === undefined) {
          outcomes.push({ ...source, outcome: "absent" });
          continue;
        }
        found = true;
        await assertSha256(store, head, transfer.sha256);
        outcomes.push({ ...source, outcome: "present" });
        return { ok: true, bytesCopied: 0, outcomes };
      }
      // One request to a source, which may be an ocean away: its head comes with its bytes.
      const { head, body } = await store.get(source.key, { verifySha256: transfer.sha256 });
      found = true;
      // A cached checksum that differs spares reading the bytes; without one the copy itself verifies.
      if (head.sha256 !== undefined) {
        await assertSha256(store, head, transfer.sha256).catch((error: unknown) => {
          body.destroy();
          throw error;
        });
      }
      const stored = await local.put(transfer.localKey, paced(body, throttle), {
        contentType: transfer.contentType,
        expectedSha256: transfer.sha256,
      });
      outcomes.push({ ...source, outcome: "copied" });
      return { ok: true, bytesCopied: stored.sizeBytes, outcomes };
    } catch (error) {
      outcomes.push({ ...source, ...outcomeOf(error, found) });
      // Nothing can be written while the site's own store is down: the other sources need not be asked.
      if (isTarget && error instanceof ObjectStoreError && error.kind === "unreachable") {
        return { ok: false, outcomes };
      }
    }
  }
  return { ok: false, outcomes };
}

/** The body at the throttle's pace; a failed read (a checksum that does not match) fails the paced stream. */
function paced(body: Readable, throttle: Throttle | undefined): Readable {
  if (throttle === undefined) return body;
  const stream = throttle.stream();
  body.on("error", (error) => stream.destroy(error));
  return body.pipe(stream);
}
