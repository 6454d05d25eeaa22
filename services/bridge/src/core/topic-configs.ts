/**
 * The settings of a remote topic, decided from its source topic's, as MirrorMaker 2's topic-config sync
 * decides them: the source's own retention, cleanup policy and record size limit, and records kept for
 * ever where the source inherits its broker's retention (the log is what sites are filled from).
 */
export function remoteTopicConfig(sourceExplicit: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([["retention.ms", "-1"], ...sourceExplicit]);
}

/**
 * The remote topic's explicit settings once `wanted` is applied, or undefined when it already has them.
 * Settings outside `wanted` (an operator's, at the target) are kept: an alteration replaces them all.
 */
export function configAfterSync(
  wanted: ReadonlyMap<string, string>,
  targetExplicit: ReadonlyMap<string, string>,
): Map<string, string> | undefined {
  const differs = [...wanted].some(([name, value]) => targetExplicit.get(name) !== value);
  return differs ? new Map([...targetExplicit, ...wanted]) : undefined;
}
