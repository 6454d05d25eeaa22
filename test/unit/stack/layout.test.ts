import { describe, expect, it } from "vitest";
import { sitePorts, validateSites } from "@tandem/stack";
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
