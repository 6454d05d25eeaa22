import type { z } from "zod";
import type { RawProblem } from "./env";
import type { PathSegment } from "./problems";

type Issue = z.core.$ZodIssue;

export interface IssueContext {
  /** Whether the value at a path may be quoted in a message (false for secrets and environment values). */
  mayShow(path: PathSegment[]): boolean;
}

/** Turns zod issues into problems with a field path and a message written for an operator. */
export function issuesToProblems(issues: readonly Issue[], context: IssueContext): RawProblem[] {
  return issues.flatMap((issue) => issueToProblems(issue, [], context));
}

function issueToProblems(issue: Issue, prefix: PathSegment[], context: IssueContext): RawProblem[] {
  const path = [...prefix, ...issue.path.map(toSegment)];
  const got = (value: unknown) => (context.mayShow(path) && isShowable(value) ? `, got ${show(value)}` : "");

  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return [{ path, message: "required" }];
      // A fraction where a count belongs: the value says more than its type.
      if (issue.expected === "int" && typeof issue.input === "number") {
        return [{ path, message: `expected ${expectedName(issue.expected)}${got(issue.input)}` }];
      }
      return [{ path, message: `expected ${expectedName(issue.expected)}, got ${typeName(issue.input)}` }];
    case "invalid_value":
      return [{ path, message: `expected ${oneOf(issue.values)}${got(issue.input)}` }];
    case "unrecognized_keys":
      return issue.keys.map((key) => ({ path: [...path, key], message: "unknown field" }));
    case "invalid_union":
      return unionProblems(issue, path, context, got);
    case "too_small":
    case "too_big":
    case "invalid_format":
    case "custom":
      return [{ path, message: `${issue.message}${got(issue.input)}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

function unionProblems(
  issue: Extract<Issue, { code: "invalid_union" }>,
  path: PathSegment[],
  context: IssueContext,
  got: (value: unknown) => string,
): RawProblem[] {
  if ("discriminator" in issue && issue.discriminator !== undefined) {
    const input = issue.input as Record<string, unknown> | undefined;
    const value = input?.[issue.discriminator];
    if (value === undefined) return [{ path, message: "required" }];
    const options = "options" in issue ? (issue.options ?? []) : [];
    return [{ path, message: `expected ${oneOf(options)}${got(value)}` }];
  }
  // A union of differently typed branches (`ssl: true` or `ssl: {...}`): the branch whose type matched
  // explains the mistake; if none matched, list the types.
  const matched = issue.errors.filter(
    (branch) => !branch.some((i) => i.code === "invalid_type" && i.path.length === 0),
  );
  if (matched.length === 1 && matched[0] !== undefined) {
    return matched[0].flatMap((inner) => issueToProblems(inner, path, context));
  }
  const expected = issue.errors.flatMap((branch) =>
    branch.flatMap((i) =>
      i.code === "invalid_type" && i.path.length === 0 ? [expectedName(i.expected)] : [],
    ),
  );
  if (issue.input === undefined) return [{ path, message: "required" }];
  return [{ path, message: `expected ${expected.join(" or ")}, got ${typeName(issue.input)}` }];
}

function toSegment(key: PropertyKey): PathSegment {
  return typeof key === "number" ? key : String(key);
}

function isShowable(value: unknown): boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

function show(value: unknown): string {
  return JSON.stringify(value);
}

function oneOf(values: readonly unknown[]): string {
  const shown = values.map((v) => show(v));
  return shown.length === 1 ? (shown[0] ?? "") : `one of ${shown.join(", ")}`;
}

/** YAML words for zod's type names. */
function expectedName(expected: string): string {
  if (expected === "object") return "a mapping";
  if (expected === "array") return "a list";
  if (expected === "int") return "a whole number";
  return expected;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return typeof value;
}
