import { formatPath } from "./problems";
import type { PathSegment } from "./problems";

export type Env = Readonly<Record<string, string | undefined>>;

export interface RawProblem {
  path: PathSegment[];
  message: string;
}

export interface Substitution {
  value: unknown;
  problems: RawProblem[];
  /** Formatted paths of the strings that took a value from the environment: never echoed in errors. */
  substitutedPaths: Set<string>;
}

const REFERENCE = /\$\{([^}]*)\}/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replaces every `${NAME}` in string values with `env.NAME`, so secrets stay out of the topology file.
 * A missing variable is a problem at the field that references it.
 */
export function substituteEnv(tree: unknown, env: Env): Substitution {
  const problems: RawProblem[] = [];
  const substitutedPaths = new Set<string>();

  const visit = (node: unknown, path: PathSegment[]): unknown => {
    if (typeof node === "string") return substituteString(node, path);
    if (Array.isArray(node)) return node.map((item, index) => visit(item, [...path, index]));
    if (node !== null && typeof node === "object") {
      return Object.fromEntries(
        Object.entries(node).map(([key, value]) => [key, visit(value, [...path, key])]),
      );
    }
    return node;
  };

  const substituteString = (text: string, path: PathSegment[]): string => {
    let replaced = false;
    const result = text.replace(REFERENCE, (reference, name: string) => {
      if (!VARIABLE_NAME.test(name)) {
        problems.push({
          path,
          message: `invalid environment variable reference ${JSON.stringify(reference)}`,
        });
        return reference;
      }
      const value = env[name];
      if (value === undefined) {
        problems.push({ path, message: `environment variable ${name} is not set` });
        return reference;
      }
      replaced = true;
      return value;
    });
    if (replaced) substitutedPaths.add(formatPath(path));
    return result;
  };

  return { value: visit(tree, []), problems, substitutedPaths };
}
