import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import ts from "typescript";

export const ROOT = path.resolve(import.meta.dirname, "../../..");

export interface Manifest {
  name: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface Workspace {
  /** Relative to the repository root, e.g. `packages/events`. */
  dir: string;
  manifest: Manifest;
}

export const readJson = <T>(file: string): T =>
  JSON.parse(fs.readFileSync(path.join(ROOT, file), "utf8")) as T;

export const rootManifest = readJson<Manifest>("package.json");

/** A tsconfig file's content (comments allowed), `extends` not followed. */
export function readTsconfig(file: string): { references?: Array<{ path: string }> } {
  const { config, error } = ts.readConfigFile(path.join(ROOT, file), ts.sys.readFile);
  if (error !== undefined)
    throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(error.messageText, "\n")}`);
  return config as { references?: Array<{ path: string }> };
}

/** The folders (root-relative) a tsconfig file references. */
export function referencesOf(file: string): string[] {
  return (readTsconfig(file).references ?? []).map((r) => path.join(path.dirname(file), r.path));
}

/** Every workspace the root's `workspaces` globs (`folder/*`) name, found on disk, so new ones count too. */
export function workspaces(): Workspace[] {
  return (rootManifest.workspaces ?? []).flatMap((glob) => {
    const parent = glob.replace(/\/\*$/, "");
    return fs
      .readdirSync(path.join(ROOT, parent))
      .map((name) => `${parent}/${name}`)
      .filter((dir) => fs.existsSync(path.join(ROOT, dir, "package.json")))
      .map((dir) => ({ dir, manifest: readJson<Manifest>(`${dir}/package.json`) }));
  });
}

const SOURCE = /\.(ts|mts|js|mjs)$/;
const NOT_SOURCE = new Set(["node_modules", ".tsbuild"]);

/** The source files below `dir` (a file or a folder, relative to the root), as root-relative paths. */
export function sourceFiles(dir: string): string[] {
  const full = path.join(ROOT, dir);
  if (fs.statSync(full).isFile()) return [dir];
  return fs
    .readdirSync(full, { withFileTypes: true })
    .filter((entry) => !NOT_SOURCE.has(entry.name))
    .flatMap((entry) => {
      const child = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return sourceFiles(child);
      return SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts") ? [child] : [];
    });
}

/** Every module specifier a file imports or re-exports, type-only and dynamic imports included. */
export function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** The npm package a bare specifier names (`@aws-sdk/client-s3/x` -> `@aws-sdk/client-s3`); none for builtins. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("/")) return undefined;
  if (specifier.startsWith("node:") || builtinModules.includes(specifier)) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** The npm packages the sources below `dirs` import, each with the first file that imports it. */
export function importedPackages(dirs: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of dirs.flatMap(sourceFiles)) {
    for (const specifier of importsOf(file)) {
      const name = packageOf(specifier);
      if (name !== undefined && !found.has(name)) found.set(name, file);
    }
  }
  return found;
}
