import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  LocalStack,
  cacheDirOf,
  layoutChange,
  sitePorts,
  validateSites,
  type StackLayout,
} from "@tandem/stack";
import { findJava } from "../../../packages/stack/src/java";

describe("stack layout", () => {
  it("gives each site its own block of ports from the base port, in site order", () => {
    expect(sitePorts(29000, 0)).toEqual({
      kafka: 29000,
      kafkaController: 29001,
      registry: 29002,
      postgres: 29003,
      s3: 29004,
      kafkaInternal: 29005,
    });
    expect(sitePorts(29000, 2).kafka).toBe(29020);
  });

  it("refuses bad and duplicate site ids with the id in the message", () => {
    expect(() => validateSites(["nyc", "NYC"])).toThrow(/"NYC" is invalid/);
    expect(() => validateSites(["nyc", "nyc"])).toThrow(/"nyc" is given twice/);
    expect(() => validateSites([])).toThrow(/no sites/);
    expect(validateSites(["nyc", "lon-2"])).toEqual(["nyc", "lon-2"]);
  });

  it("names the cause when Java is missing", () => {
    expect(() => findJava({ JAVA_HOME: "/nonexistent-jdk" })).toThrow(
      /Java not found \(\/nonexistent-jdk\/bin\/java/,
    );
  });
});

const temporaryDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-layout-unit-"));
  temporaryDirs.push(dir);
  return dir;
}

describe("stack cache", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    for (const dir of temporaryDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the servers in <dataDir>/cache unless told otherwise", () => {
    vi.stubEnv("TANDEM_STACK_CACHE", "");
    const dataDir = tempDir();
    const stack = new LocalStack({ dataDir, sites: ["nyc"] });
    expect(stack.layout.cacheDir).toBeUndefined();
    expect(cacheDirOf(stack.layout)).toBe(path.join(dataDir, "cache"));
  });

  it("takes TANDEM_STACK_CACHE for a new stack, and keeps the cache a stack was started with", () => {
    const shared = tempDir();
    vi.stubEnv("TANDEM_STACK_CACHE", shared);
    const dataDir = tempDir();
    expect(new LocalStack({ dataDir, sites: ["nyc"] }).layout.cacheDir).toBe(shared);
    fs.writeFileSync(
      path.join(dataDir, "stack.json"),
      JSON.stringify({ dataDir, sites: ["nyc"], basePort: 29000, cacheDir: "/elsewhere" }),
    );
    expect(new LocalStack({ dataDir }).layout.cacheDir).toBe("/elsewhere");
    expect(new LocalStack({ dataDir, cacheDir: shared }).layout.cacheDir).toBe(shared);
  });

  it("names a change of cache, which a running stack refuses (its servers are known by their jars' paths)", () => {
    const layout: StackLayout = { dataDir: "/d", sites: ["nyc"], basePort: 29000 };
    expect(layoutChange(layout, { ...layout, cacheDir: "/d/cache" })).toBeUndefined();
    expect(layoutChange(layout, { ...layout, cacheDir: "/shared" })).toBe("cache /d/cache -> /shared");
  });
});
