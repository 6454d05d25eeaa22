import type { RawProblem } from "./env";

/**
 * Rules that span several fields (site references, uniqueness, one merge policy for all).
 * They run on the raw document, whatever its shape, so that they are reported together with field errors.
 */
export function crossFieldProblems(raw: unknown): RawProblem[] {
  const root = asRecord(raw);
  const sites = asArray(root?.sites);
  const links = asArray(root?.links);
  const siteIds = sites.map((s) => asString(asRecord(s)?.id));
  const declared = new Set(siteIds.filter((id): id is string => id !== undefined));
  const declaredList = [...declared].join(", ") || "none";
  const problems: RawProblem[] = [];

  siteIds.forEach((id, index) => {
    const first = siteIds.indexOf(id);
    if (id !== undefined && first !== index) {
      problems.push({
        path: ["sites", index, "id"],
        message: `duplicate site id "${id}" (also sites[${first}])`,
      });
    }
  });

  checkSharedBrokers(sites, siteIds, problems);
  checkMergePolicies(sites, declared, problems);
  checkReachedFrom(sites, siteIds, declaredList, problems);

  const pairs = new Map<string, number>();
  links.forEach((entry, index) => {
    const link = asRecord(entry);
    const from = asString(link?.from);
    const to = asString(link?.to);
    for (const [field, id] of [
      ["from", from],
      ["to", to],
    ] as const) {
      if (id !== undefined && !declared.has(id)) {
        problems.push({
          path: ["links", index, field],
          message: `unknown site "${id}"; declared sites: ${declaredList}`,
        });
      }
    }
    if (from === undefined || to === undefined) return;
    if (from === to) {
      problems.push({ path: ["links", index, "to"], message: `a link cannot go from "${from}" to itself` });
      return;
    }
    const pair = `${from} -> ${to}`;
    const first = pairs.get(pair);
    if (first === undefined) pairs.set(pair, index);
    else problems.push({ path: ["links", index], message: `duplicate link ${pair} (also links[${first}])` });
  });

  return problems;
}

/** `reachedFrom` names other declared sites, never the site itself. */
function checkReachedFrom(
  sites: unknown[],
  siteIds: (string | undefined)[],
  declaredList: string,
  problems: RawProblem[],
): void {
  sites.forEach((entry, index) => {
    const reachedFrom = asRecord(asRecord(entry)?.reachedFrom);
    for (const from of Object.keys(reachedFrom ?? {})) {
      const path = ["sites", index, "reachedFrom", from];
      if (from === siteIds[index]) {
        problems.push({ path, message: "a site does not reach itself through reachedFrom" });
      } else if (!siteIds.includes(from)) {
        problems.push({ path, message: `unknown site "${from}"; declared sites: ${declaredList}` });
      }
    }
  });
}

/** Two sites on one Kafka cluster would write the same local topics: their events could not be told apart. */
function checkSharedBrokers(sites: unknown[], siteIds: (string | undefined)[], problems: RawProblem[]): void {
  const owner = new Map<string, number>();
  sites.forEach((entry, siteIndex) => {
    asArray(asRecord(asRecord(entry)?.kafka)?.brokers).forEach((value, brokerIndex) => {
      const broker = asString(value)?.toLowerCase();
      if (broker === undefined) return;
      const first = owner.get(broker);
      if (first === undefined) owner.set(broker, siteIndex);
      else if (first !== siteIndex) {
        problems.push({
          path: ["sites", siteIndex, "kafka", "brokers", brokerIndex],
          message: `broker also used by site ${siteIds[first] ?? `sites[${first}]`}; each site needs its own Kafka cluster`,
        });
      }
    });
  });
}

/**
 * Sites converge only if they resolve every concurrent edit the same way, so all must use one policy;
 * a priority order must rank every site.
 */
function checkMergePolicies(sites: unknown[], declared: Set<string>, problems: RawProblem[]): void {
  const policies = sites.map((entry) => normalizePolicy(asRecord(entry)?.mergePolicy));
  const reference = policies[0];
  policies.forEach((policy, index) => {
    if (index > 0 && reference !== undefined && policy !== undefined && policy.key !== reference.key) {
      problems.push({
        path: ["sites", index, "mergePolicy"],
        message: `differs from sites[0] (${reference.key}); all sites must use the same merge policy to converge`,
      });
    }
  });

  sites.forEach((entry, index) => {
    const policy = asRecord(asRecord(entry)?.mergePolicy);
    if (policy?.kind !== "priority" || !Array.isArray(policy.siteOrder)) return;
    const order = policy.siteOrder.map(asString);
    const path = ["sites", index, "mergePolicy", "siteOrder"];
    order.forEach((id, position) => {
      if (id === undefined) return;
      if (!declared.has(id)) problems.push({ path: [...path, position], message: `unknown site "${id}"` });
      else if (order.indexOf(id) !== position) {
        problems.push({ path: [...path, position], message: `"${id}" is listed twice` });
      }
    });
    const missing = [...declared].filter((id) => !order.includes(id));
    if (missing.length > 0)
      problems.push({ path, message: `must rank every site; missing ${missing.join(", ")}` });
  });
}

function normalizePolicy(value: unknown): { key: string } | undefined {
  if (value === undefined) return { key: "lww" };
  if (typeof value === "string") return { key: value };
  const policy = asRecord(value);
  if (policy === undefined || typeof policy.kind !== "string") return undefined;
  if (policy.kind !== "priority") return { key: policy.kind };
  return { key: `priority [${asArray(policy.siteOrder).map(String).join(", ")}]` };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
