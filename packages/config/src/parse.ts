import { isAbsolute, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import type { Document } from "yaml";
import { substituteEnv } from "./env";
import type { Env, RawProblem } from "./env";
import { issuesToProblems } from "./issues";
import { formatPath, TopologyError } from "./problems";
import type { PathSegment, Problem } from "./problems";
import { topologySchema } from "./schema";
import { crossFieldProblems } from "./semantic";
import type { Topology } from "./types";

export interface ParseOptions {
  /** Values for `${NAME}` references. */
  env?: Env;
  /** Shown in error messages, usually the file path. */
  sourceName?: string;
  /** Directory against which relative file paths (TLS material, directory stores) are resolved. */
  baseDir?: string;
  /**
   * Checks a file the topology refers to (TLS material) at its resolved path; returns a problem or undefined.
   * Without it, files are not looked at and parsing does no I/O.
   */
  checkFile?: (path: string) => string | undefined;
}

/** Field names whose values are secret wherever they appear; `sasl` is secret as a whole. */
const SECRET_FIELDS = new Set(["password", "secretAccessKey", "connectionString", "sasl"]);

function isSecretPath(path: readonly PathSegment[]): boolean {
  return path.some((segment) => typeof segment === "string" && SECRET_FIELDS.has(segment));
}

/**
 * Parses and validates a topology document. Throws a `TopologyError` listing every problem found,
 * each with its field path and, when it can be located, its line.
 */
export function parseTopology(yamlText: string, options: ParseOptions = {}): Topology {
  const sourceName = options.sourceName ?? "topology";
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: false, uniqueKeys: true });

  if (doc.errors.length > 0) {
    const problems = doc.errors.map((error): Problem => ({
      path: "",
      message: `YAML syntax error: ${error.message}`,
      line: lineCounter.linePos(error.pos[0]).line,
    }));
    throw new TopologyError(problems, sourceName);
  }

  const document: unknown = doc.toJS();
  if (document === null || document === undefined) {
    throw new TopologyError(
      [{ path: "", message: "the document is empty; declare sites and links" }],
      sourceName,
    );
  }

  const {
    value,
    problems: envProblems,
    substitutedPaths,
  } = substituteEnv(withoutExtensions(document), options.env ?? {});
  const result = topologySchema.safeParse(value, { reportInput: true });
  const envPaths = new Set(envProblems.map((p) => formatPath(p.path)));
  const fieldProblems = result.success
    ? []
    : issuesToProblems(result.error.issues, {
        mayShow: (path) => !isSecretPath(path) && !substitutedPaths.has(formatPath(path)),
      }).filter((p) => !envPaths.has(formatPath(p.path)));

  const fileProblems =
    options.checkFile === undefined ? [] : referencedFileProblems(value, options.checkFile, options.baseDir);
  const problems = locate(
    [...envProblems, ...fieldProblems, ...crossFieldProblems(value), ...fileProblems],
    doc,
    lineCounter,
  );
  if (problems.length > 0 || !result.success) throw new TopologyError(problems, sourceName);

  return options.baseDir === undefined ? result.data : resolvePaths(result.data, options.baseDir);
}

/** Top-level `x-*` keys hold YAML anchors shared by several sites or links, as in Compose files. */
function withoutExtensions(document: unknown): unknown {
  if (typeof document !== "object" || document === null || Array.isArray(document)) return document;
  return Object.fromEntries(Object.entries(document).filter(([key]) => !key.startsWith("x-")));
}

/** Unique problems with their line, in document order. */
function locate(raw: readonly RawProblem[], doc: Document, lineCounter: LineCounter): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const { path, message } of raw) {
    const formatted = formatPath(path);
    const key = `${formatted}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const offset = offsetOf(doc, path);
    problems.push({
      path: formatted,
      message,
      ...(offset === undefined ? {} : { line: lineCounter.linePos(offset).line }),
    });
  }
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => (a.problem.line ?? 0) - (b.problem.line ?? 0) || a.index - b.index)
    .map(({ problem }) => problem);
}

/** Start offset of the node at `path`, or of its nearest ancestor present in the document. */
function offsetOf(doc: Document, path: readonly PathSegment[]): number | undefined {
  for (let length = path.length; length > 0; length--) {
    const node: unknown = doc.getIn(path.slice(0, length), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range !== undefined) return range[0];
  }
  return undefined;
}

function referencedFileProblems(
  value: unknown,
  checkFile: (path: string) => string | undefined,
  baseDir: string | undefined,
): RawProblem[] {
  const sites = (value as { sites?: unknown } | null)?.sites;
  if (!Array.isArray(sites)) return [];
  return sites.flatMap((site: unknown, index) => {
    const ssl = (site as { kafka?: { ssl?: unknown } } | null)?.kafka?.ssl;
    if (typeof ssl !== "object" || ssl === null) return [];
    return (["ca", "cert", "key"] as const).flatMap((field): RawProblem[] => {
      const file: unknown = (ssl as Record<string, unknown>)[field];
      if (typeof file !== "string" || file === "") return [];
      const problem = checkFile(baseDir === undefined ? file : resolve(baseDir, file));
      return problem === undefined
        ? []
        : [{ path: ["sites", index, "kafka", "ssl", field], message: problem }];
    });
  });
}

function resolvePaths(topology: Topology, baseDir: string): Topology {
  const abs = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  const absOptional = (path: string | undefined) => (path === undefined ? undefined : abs(path));
  return {
    ...topology,
    sites: topology.sites.map((site) => {
      const { ssl } = site.kafka;
      const kafka =
        typeof ssl === "object"
          ? {
              ...site.kafka,
              ssl: dropUndefined({
                ...ssl,
                ca: absOptional(ssl.ca),
                cert: absOptional(ssl.cert),
                key: absOptional(ssl.key),
              }),
            }
          : site.kafka;
      const objectStore =
        site.objectStore.kind === "directory"
          ? { ...site.objectStore, path: abs(site.objectStore.path) }
          : site.objectStore;
      return { ...site, kafka, objectStore };
    }),
  };
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
