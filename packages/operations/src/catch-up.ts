/** Asks the bridge that runs a link to catch it up now, whatever its schedule (`tandem replicate`). */
export async function requestCatchUp(
  bridgeUrl: string,
  link: { from: string; to: string },
): Promise<"started" | "unknown-link"> {
  const response = await fetch(new URL(`/links/${link.from}-${link.to}/catch-up`, bridgeUrl), {
    method: "POST",
  }).catch((error: unknown) => {
    throw new Error(`bridge at ${bridgeUrl} unreachable: ${(error as Error).message}`);
  });
  if (response.status === 404) return "unknown-link";
  if (!response.ok) throw new Error(`bridge answered HTTP ${response.status}: ${await response.text()}`);
  return "started";
}
