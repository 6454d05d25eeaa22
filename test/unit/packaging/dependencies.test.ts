import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  importedPackages,
  importsOf,
  referencesOf,
  rootManifest,
  sourceFiles,
  workspaces,
} from "./workspaces";

/** Dependencies a workspace needs without importing them. */
const USED_WITHOUT_IMPORT: Record<string, string[]> = {
  // The image runs the CLI's TypeScript sources with `node --import tsx`.
  "@tandem/cli": ["tsx"],
  // The console serves uPlot's browser build from node_modules to its pages.
  "@tandem/console": ["uplot"],
};

/** What the root's own code (tests, benchmarks, scripts, tool configs) imports from. */
const ROOT_CODE = ["test", "bench", "scripts", "vitest.config.ts", "eslint.config.js"];

const all = workspaces();
const workspaceNames = new Set(all.map((w) => w.manifest.name));

describe("workspace dependencies", () => {
  it("finds the workspaces", () => {
    expect(workspaceNames).toContain("@tandem/events");
    expect(workspaceNames).toContain("@tandem/cli");
  });

  it.each(all.map((w) => [w.manifest.name, w] as const))(
    "%s declares exactly the packages it imports",
    (name, { dir, manifest }) => {
      const imported = importedPackages([dir]);
      imported.delete(name);
      const declared = Object.keys(manifest.dependencies ?? {});
      const needed = [...imported.keys(), ...(USED_WITHOUT_IMPORT[name] ?? [])];
      const missing = needed.filter((dep) => !declared.includes(dep));
      const unused = declared.filter((dep) => !needed.includes(dep));
      expect(
        missing.map((dep) => `${dep} (imported by ${imported.get(dep) ?? "?"})`),
        `imported by ${dir} but not in its package.json dependencies`,
      ).toEqual([]);
      expect(unused, `in ${dir}/package.json dependencies but not imported`).toEqual([]);
      expect(manifest.devDependencies ?? {}, "dev tooling belongs to the root").toEqual({});
    },
  );

  it("reaches another workspace only through its package name, never by a relative path", () => {
    const crossings = all.flatMap(({ dir }) =>
      sourceFiles(dir).flatMap((file) =>
        importsOf(file)
          .filter((specifier) => specifier.startsWith("."))
          .map((specifier) => path.relative(dir, path.join(path.dirname(file), specifier)))
          .filter((target) => target.startsWith(".."))
          .map((target) => `${file} -> ${target}`),
      ),
    );
    expect(crossings).toEqual([]);
  });

  it("depends on workspaces as workspaces, so npm links them and never fetches a @tandem package", () => {
    for (const { manifest } of [...all, { manifest: rootManifest }]) {
      const deps = { ...manifest.dependencies, ...manifest.devDependencies };
      for (const [dep, range] of Object.entries(deps)) {
        if (!dep.startsWith("@tandem/")) continue;
        expect(workspaceNames, `${manifest.name}: ${dep}`).toContain(dep);
        expect(range, `${manifest.name}: ${dep}`).toBe("*");
      }
    }
  });

  it("asks for the same version range of a package everywhere", () => {
    const ranges = new Map<string, Set<string>>();
    for (const { manifest } of [...all, { manifest: rootManifest }]) {
      for (const [dep, range] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
        ranges.set(dep, (ranges.get(dep) ?? new Set()).add(range));
      }
    }
    const inconsistent = [...ranges]
      .filter(([, set]) => set.size > 1)
      .map(([dep, set]) => `${dep}: ${[...set]}`);
    expect(inconsistent).toEqual([]);
  });

  it("keeps dev tooling at the root, which declares what its tests and benchmarks import", () => {
    expect(rootManifest.dependencies ?? {}).toEqual({});
    const declared = new Set([...Object.keys(rootManifest.devDependencies ?? {}), ...workspaceNames]);
    const missing = [...importedPackages(ROOT_CODE)].filter(([dep]) => !declared.has(dep));
    expect(missing.map(([dep, file]) => `${dep} (imported by ${file})`)).toEqual([]);
  });
});

describe("TypeScript project references", () => {
  const dirOf = new Map(all.map((w) => [w.manifest.name, w.dir]));

  it.each(all.map((w) => [w.manifest.name, w] as const))(
    "%s references the workspaces it depends on",
    (_name, { dir, manifest }) => {
      const workspaceDeps = Object.keys(manifest.dependencies ?? {}).filter((dep) => workspaceNames.has(dep));
      expect(referencesOf(`${dir}/tsconfig.json`).sort()).toEqual(
        workspaceDeps.map((dep) => dirOf.get(dep)).sort(),
      );
    },
  );

  it("checks every workspace, and the tests and benchmarks against all of them", () => {
    const dirs = all.map((w) => w.dir).sort();
    expect(referencesOf("tsconfig.json").sort()).toEqual([...dirs, "tsconfig.tools.json"].sort());
    expect(referencesOf("tsconfig.tools.json").sort()).toEqual(dirs);
  });
});
