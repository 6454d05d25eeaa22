#!/usr/bin/env node
// The tandem command as JavaScript: the TypeScript sources of the workspaces bundled by esbuild, one
// directory per version of those sources, the third-party packages left in node_modules. A command then starts
// without a TypeScript loader: `tandem status --help` took 2.6 s of CPU through tsx and 0.95 s bundled, and
// tsx's module hooks held about 22 MiB of every long-running process.
//
//   node scripts/cli-bundle.mjs   prints Node's arguments that run the tandem command, one per line (the last is
//                                 the bundle's main.js, built first when the sources changed)
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPOSITORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** A bundle unused this long is removed when another is built (a running process may still load its chunks). */
const KEEP_UNUSED_MS = 24 * 60 * 60 * 1000;

/** Every file the bundle is made of: the workspaces' sources and manifests, and this script. */
function sourceFiles(root) {
  const files = [fileURLToPath(import.meta.url)];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts")) files.push(full);
    }
  };
  for (const group of ["packages", "services"]) {
    if (!fs.existsSync(path.join(root, group))) continue;
    for (const workspace of fs.readdirSync(path.join(root, group))) {
      const dir = path.join(root, group, workspace);
      if (fs.existsSync(path.join(dir, "src"))) walk(path.join(dir, "src"));
      if (fs.existsSync(path.join(dir, "package.json"))) files.push(path.join(dir, "package.json"));
    }
  }
  return files.sort();
}

function versionOfSources(root) {
  const hash = createHash("sha256");
  for (const file of sourceFiles(root))
    hash.update(path.relative(root, file)).update("\0").update(fs.readFileSync(file));
  return hash.digest("hex").slice(0, 16);
}

/**
 * Each source keeps its own location: schemas, migrations and the console's pages are read relative to the
 * file that reads them, not to the bundle.
 */
const sourceLocations = {
  name: "source-locations",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@tandem/") ? undefined : { path: args.path, external: true },
    );
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await fs.promises.readFile(args.path, "utf8");
      if (!text.includes("import.meta")) return undefined;
      return {
        contents: text
          .replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll("import.meta.dirname", JSON.stringify(path.dirname(args.path))),
        loader: "ts",
      };
    });
  },
};

async function build(root, outdir) {
  const esbuild = await import("esbuild");
  await esbuild.build({
    entryPoints: [path.join(root, "services", "cli", "src", "main.ts")],
    bundle: true,
    // Each command's modules and libraries stay in their own chunks, loaded when the command runs.
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node22",
    outdir,
    sourcemap: true,
    plugins: [sourceLocations],
    logLevel: "error",
  });
}

function pruneUnused(bundles, except) {
  for (const entry of fs.readdirSync(bundles)) {
    const dir = path.join(bundles, entry);
    if (entry === except) continue;
    if (Date.now() - fs.statSync(dir).mtimeMs > KEEP_UNUSED_MS)
      fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The path of the current sources' bundle, built when missing; safe to call from several processes at once.
 * `root` is the repository's (another only in this script's tests).
 */
export async function cliBundle(root = REPOSITORY) {
  const bundles = path.join(root, ".tandem", "cli");
  const version = versionOfSources(root);
  const dir = path.join(bundles, version);
  const main = path.join(dir, "main.js");
  if (fs.existsSync(main)) {
    const now = new Date();
    fs.utimesSync(dir, now, now);
    return main;
  }
  fs.mkdirSync(bundles, { recursive: true });
  const partial = path.join(bundles, `.partial-${randomUUID()}`);
  try {
    await build(root, partial);
    // Whole or not at all: a concurrent build of the same version may have won the rename, and is the same.
    fs.renameSync(partial, dir);
  } catch (error) {
    if (!fs.existsSync(main)) throw error;
  } finally {
    fs.rmSync(partial, { recursive: true, force: true });
  }
  pruneUnused(bundles, version);
  return main;
}

/** Node's arguments that run the tandem command: its bundle, stack traces pointing into the TypeScript sources. */
export async function tandemNodeArgs() {
  return ["--enable-source-maps", await cliBundle()];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${(await tandemNodeArgs()).join("\n")}\n`);
}
