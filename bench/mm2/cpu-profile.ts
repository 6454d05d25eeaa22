import fs from "node:fs";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  functions: ProfileEntry[];
  modules: ProfileEntry[];
}

/** Where a function lives: an npm package, a Tandem workspace package, Node itself, or V8's own entries. */
export function moduleOf(url: string, functionName: string): string {
  if (url === "") return `(${functionName.replace(/[()]/g, "") || "native"})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const workspace = /\/(packages|services)\/([^/]+)\//.exec(url);
  if (workspace) return `@tandem/${workspace[2]}`;
  if (url.startsWith("node:")) return "node (core)";
  return path.basename(url);
}

function entries(totals: Map<string, number>, totalMs: number, top: number): ProfileEntry[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, selfMs]) => ({ name, selfMs, share: selfMs / totalMs }));
}

/** Self time per function and per module of a V8 `.cpuprofile` (what `node --cpu-prof` writes). */
export function summarizeProfile(file: string, top = 20): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const functions = new Map<string, number>();
  const modules = new Map<string, number>();
  let totalMs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const ms = us / 1000;
    const where =
      url === ""
        ? ""
        : ` ${url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(packages|services)\//, "$1/")}:${lineNumber + 1}`;
    const name = `${functionName || "(anonymous)"}${where}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const module = moduleOf(url, functionName);
    modules.set(module, (modules.get(module) ?? 0) + ms);
    totalMs += ms;
  }
  return { totalMs, functions: entries(functions, totalMs, top), modules: entries(modules, totalMs, top) };
}

/** The newest `.cpuprofile` in a directory, if any. */
export function newestProfile(dir: string): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => path.join(dir, f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
}
