export type PathSegment = string | number;

export interface Problem {
  /** Field path such as `links[1].schedule.windows[0].start`; empty for the document as a whole. */
  path: string;
  message: string;
  /** 1-based line in the topology file, when the field (or its nearest present parent) was located. */
  line?: number;
}

export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out;
}

export class TopologyError extends Error {
  override readonly name = "TopologyError";

  constructor(
    readonly problems: Problem[],
    readonly sourceName: string,
  ) {
    super(renderProblems(problems, sourceName));
  }
}

function renderProblems(problems: readonly Problem[], sourceName: string): string {
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  const lines = problems.map((p) => {
    const where = p.path === "" ? "" : `${p.path}: `;
    const line = p.line === undefined ? "" : ` (line ${p.line})`;
    return `  - ${where}${p.message}${line}`;
  });
  return [`Invalid topology ${sourceName}: ${count}`, ...lines].join("\n");
}
