import type { AllowDeny, LinkFilters } from "@tandem/config";

export type FilterVerdict = "pass" | "filtered-tenant" | "filtered-group";

/** True when the list restricts anything: an allow list, or a non-empty deny list. */
export function isRestrictive(list: AllowDeny): boolean {
  return list.allow !== undefined || list.deny.length > 0;
}

/**
 * Whether an id passes an allow/deny list. Deny wins over allow; an allow list admits only its members.
 * A restrictive list rejects a missing id: a filter is a guarantee, and an event it cannot classify may
 * be one it must stop.
 */
export function admits(list: AllowDeny, id: string | undefined): boolean {
  if (!isRestrictive(list)) return true;
  if (id === undefined || id === "") return false;
  const normalized = id.toLowerCase();
  if (list.deny.includes(normalized)) return false;
  return list.allow === undefined || list.allow.includes(normalized);
}

/** Applies a link's tenant filter, then its group filter. */
export function applyFilters(
  filters: LinkFilters,
  tenant: string | undefined,
  group: string | undefined,
): FilterVerdict {
  if (!admits(filters.tenants, tenant)) return "filtered-tenant";
  if (!admits(filters.groups, group)) return "filtered-group";
  return "pass";
}
