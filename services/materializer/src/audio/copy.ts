import { ObjectStoreError, type ObjectStore } from "@tandem/object-store";
import { copySources, type SourceOutcome } from "../core/transfer";
import type { ClaimedTransfer } from "../db/transfers";

export type CopyResult =
  { ok: true; bytesCopied: number; outcomes: SourceOutcome[] } | { ok: false; outcomes: SourceOutcome[] };

function outcomeOf(error: unknown): Pick<SourceOutcome, "outcome" | "detail"> {
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof ObjectStoreError) {
    const outcome =
      error.kind === "not-found" ? "absent" : error.kind === "invalid-key" ? "error" : error.kind;
    return { outcome, detail };
  }
  return { outcome: "error", detail };
}

/**
 * One attempt to get a verified copy of the call's audio into the local store: already there, else
 * streamed from each source in turn (verified on read and again on write). A mismatching copy is never
 * accepted: the next source is tried.
 */
export async function copyAudio(
  transfer: ClaimedTransfer,
  localSite: string,
  stores: ReadonlyMap<string, ObjectStore>,
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
    try {
      const head = await store.head(source.key);
      if (head === undefined) {
        outcomes.push({ ...source, outcome: "absent" });
        continue;
      }
      if (head.sha256 !== transfer.sha256) {
        outcomes.push({ ...source, outcome: "checksum-mismatch", detail: `head sha256 ${head.sha256}` });
        continue;
      }
      if (isTarget) {
        outcomes.push({ ...source, outcome: "present" });
        return { ok: true, bytesCopied: 0, outcomes };
      }
      const body = await store.get(source.key, { verifySha256: transfer.sha256 });
      const stored = await local.put(transfer.localKey, body, {
        contentType: transfer.contentType,
        expectedSha256: transfer.sha256,
      });
      outcomes.push({ ...source, outcome: "copied" });
      return { ok: true, bytesCopied: stored.sizeBytes, outcomes };
    } catch (error) {
      outcomes.push({ ...source, ...outcomeOf(error) });
      // Nothing can be written while the site's own store is down: the other sources need not be asked.
      if (isTarget && outcomes.at(-1)?.outcome === "unreachable") return { ok: false, outcomes };
    }
  }
  return { ok: false, outcomes };
}
