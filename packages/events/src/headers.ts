import { PermanentError } from "@tandem/runtime";
import { isSiteId, isUuid } from "./ids";

/**
 * Header contract carried by every event record, so that a bridge can filter and route without
 * decoding the value. The value carries the same identities, except the path.
 */
export const HEADER_EVENT_ID = "tandem-event-id";
export const HEADER_ORIGIN = "tandem-origin";
export const HEADER_PATH = "tandem-path";
export const HEADER_TENANT = "tandem-tenant";
export const HEADER_GROUP = "tandem-group";

export interface TandemHeaders {
  eventId: string;
  origin: string;
  /** Sites the event has been written to, in order, starting with the origin; never repeats a site. */
  path: string[];
  tenantId: string;
  groupId: string;
}

/** Header values as kafkajs delivers them (`IHeaders`). */
export type KafkaHeaderValue = Buffer | string | Array<Buffer | string> | undefined;
export type KafkaHeaders = Record<string, KafkaHeaderValue>;

export interface HeaderProblem {
  header: string;
  kind: "missing" | "malformed";
  problem: string;
}

export type HeaderParseResult =
  { ok: true; headers: TandemHeaders } | { ok: false; problems: HeaderProblem[] };

export interface BuildHeadersInput {
  eventId: string;
  origin: string;
  tenantId: string;
  groupId: string;
  /** Defaults to `[origin]`, the path of an event just written at its origin. */
  path?: string[];
}

/** Headers for a record; refuses input that `parseHeaders` would refuse, so no bad header is ever written. */
export function buildHeaders(input: BuildHeadersInput): Record<string, string> {
  const path = input.path ?? [input.origin];
  const headers = {
    [HEADER_EVENT_ID]: input.eventId,
    [HEADER_ORIGIN]: input.origin,
    [HEADER_PATH]: path.join(","),
    [HEADER_TENANT]: input.tenantId,
    [HEADER_GROUP]: input.groupId,
  };
  const parsed = parseHeaders(headers);
  if (!parsed.ok) {
    throw new HeaderError(parsed.problems);
  }
  return headers;
}

export class HeaderError extends PermanentError {
  readonly problems: HeaderProblem[];

  constructor(problems: HeaderProblem[]) {
    super(`invalid Tandem headers: ${problems.map((p) => `${p.header}: ${p.problem}`).join("; ")}`);
    this.name = "HeaderError";
    this.problems = problems;
  }
}

type Single = { ok: true; value: string } | { ok: false; problem: HeaderProblem };

function single(headers: KafkaHeaders, header: string): Single {
  const raw = Object.hasOwn(headers, header) ? headers[header] : undefined;
  if (raw === undefined) {
    return { ok: false, problem: { header, kind: "missing", problem: "header is absent" } };
  }
  // A header repeated with different values is ambiguous; repeated identical values are harmless.
  const values = (Array.isArray(raw) ? raw : [raw]).map((v) =>
    typeof v === "string" ? v : v.toString("utf8"),
  );
  const [first] = values;
  if (first === undefined) {
    return { ok: false, problem: { header, kind: "missing", problem: "header has no value" } };
  }
  if (values.some((v) => v !== first)) {
    return {
      ok: false,
      problem: { header, kind: "malformed", problem: `header is repeated with different values` },
    };
  }
  return { ok: true, value: first };
}

/** Parses the Tandem headers of a consumed record, reporting every missing or malformed one. */
export function parseHeaders(headers: KafkaHeaders | undefined): HeaderParseResult {
  const source = headers ?? {};
  const problems: HeaderProblem[] = [];

  const read = (header: string, check: (value: string) => string | undefined): string | undefined => {
    const result = single(source, header);
    if (!result.ok) {
      problems.push(result.problem);
      return undefined;
    }
    const problem = check(result.value);
    if (problem !== undefined) {
      problems.push({ header, kind: "malformed", problem });
      return undefined;
    }
    return result.value;
  };
  const uuid = (value: string) =>
    isUuid(value) ? undefined : `${JSON.stringify(value)} is not a canonical UUID`;
  const site = (value: string) => (isSiteId(value) ? undefined : `${JSON.stringify(value)} is not a site id`);

  const eventId = read(HEADER_EVENT_ID, uuid);
  const origin = read(HEADER_ORIGIN, site);
  const tenantId = read(HEADER_TENANT, uuid);
  const groupId = read(HEADER_GROUP, uuid);
  const pathText = read(HEADER_PATH, pathProblem);
  const path = pathText?.split(",");
  if (path !== undefined && origin !== undefined && path[0] !== origin) {
    problems.push({
      header: HEADER_PATH,
      kind: "malformed",
      problem: `path ${JSON.stringify(pathText)} does not start with the origin ${JSON.stringify(origin)}`,
    });
  }

  if (
    problems.length > 0 ||
    eventId === undefined ||
    origin === undefined ||
    path === undefined ||
    tenantId === undefined ||
    groupId === undefined
  ) {
    return { ok: false, problems };
  }
  return { ok: true, headers: { eventId, origin, path, tenantId, groupId } };
}

function pathProblem(value: string): string | undefined {
  const sites = value.split(",");
  const bad = sites.filter((s) => !isSiteId(s));
  if (bad.length > 0) {
    return `${JSON.stringify(value)} is not a comma-separated list of site ids (bad: ${bad.map((s) => JSON.stringify(s)).join(", ")})`;
  }
  if (new Set(sites).size !== sites.length) {
    return `${JSON.stringify(value)} visits a site twice`;
  }
  return undefined;
}
