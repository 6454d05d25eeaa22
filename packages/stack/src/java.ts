import { spawnSync } from "node:child_process";
import path from "node:path";
import { MIN_JAVA_MAJOR } from "./versions";

/** The java executable to run the JVM servers with: JAVA_HOME first, then PATH. */
export function findJava(env: NodeJS.ProcessEnv = process.env): string {
  const java = env.JAVA_HOME ? path.join(env.JAVA_HOME, "bin", "java") : "java";
  const result = spawnSync(java, ["-version"], { encoding: "utf8" });
  if (result.error) {
    throw new Error(
      `Java not found (${java}: ${result.error.message}): the local stack needs Java ${MIN_JAVA_MAJOR}+ for ` +
        `Kafka, the schema registry and S3Proxy. Install a JDK (apt-get install openjdk-17-jre-headless) or set JAVA_HOME.`,
    );
  }
  const versionText = `${result.stderr}${result.stdout}`;
  const major = Number(/version "(\d+)/.exec(versionText)?.[1]);
  if (!(major >= MIN_JAVA_MAJOR)) {
    throw new Error(
      `Java ${MIN_JAVA_MAJOR}+ is needed, ${java} is ${versionText.split("\n")[0] ?? "unknown"}`,
    );
  }
  return java;
}

/**
 * Options for every server's JVM, from TANDEM_STACK_JAVA_OPTIONS (separated by spaces): the tests start the
 * servers with `-XX:TieredStopAtLevel=1`, which halves the CPU a server takes to start.
 */
export function javaOptionsOf(text: string | undefined): string[] {
  const options = (text ?? "").split(/\s+/).filter((option) => option !== "");
  const notOptions = options.filter((option) => !option.startsWith("-"));
  if (notOptions.length > 0) {
    throw new Error(
      `TANDEM_STACK_JAVA_OPTIONS holds ${notOptions.map((o) => `'${o}'`).join(", ")}: each JVM option starts with '-' (e.g. -XX:TieredStopAtLevel=1)`,
    );
  }
  return options;
}
