import { describe, expect, it } from "vitest";
import { javaOptionsOf } from "../../../packages/stack/src/java";

describe("the servers' JVM options (TANDEM_STACK_JAVA_OPTIONS)", () => {
  it("are none when unset or blank, and split on any spaces", () => {
    expect(javaOptionsOf(undefined)).toEqual([]);
    expect(javaOptionsOf("  ")).toEqual([]);
    expect(javaOptionsOf(" -XX:TieredStopAtLevel=1 \t-Xss512k\n")).toEqual([
      "-XX:TieredStopAtLevel=1",
      "-Xss512k",
    ]);
  });

  it("refuses a word that is not an option, naming it", () => {
    expect(() => javaOptionsOf("-Xss512k Xmx1g")).toThrow(/'Xmx1g'.*starts with '-'/);
  });
});
