import { v5 as uuidv5 } from "uuid";
import { isUuid } from "@tandem/events";

/** Tandem's namespace for call ids derived from an archive's own ids (`--id-namespace` replaces it). */
export const IMPORT_ID_NAMESPACE = "0b8e6f3c-2d47-4c1a-9e55-7a1f4b6d2c90";

/**
 * The call id of an archived call: its own id when that is a UUID (any case), otherwise a UUIDv5 of
 * the tenant and the archive's id, so that a rerun or a resumed import publishes the same call and
 * event ids, and the same archive id in two tenants stays two calls.
 */
export function callIdOf(archiveId: string, tenantId: string, namespace = IMPORT_ID_NAMESPACE): string {
  const lower = archiveId.toLowerCase();
  if (isUuid(lower)) return lower;
  return uuidv5(`${tenantId}/${archiveId}`, namespace);
}
