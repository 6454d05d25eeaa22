import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { versions } from "@tandem/stack";

/**
 * MirrorMaker 2's classpath (connect-mirror, connect-runtime and a log4j2 binding for slf4j) resolved from
 * Maven Central by Maven into the cache, once, the way the local stack resolves its server jars.
 * A `.complete` marker makes an interrupted download start again instead of running half a classpath.
 */
export function resolveMirrorMakerClasspath(cache: string, progress: (message: string) => void): string {
  const dir = path.resolve(cache, `connect-mirror-${versions.KAFKA_VERSION}`);
  const libs = path.join(dir, "libs");
  if (!fs.existsSync(path.join(dir, ".complete"))) {
    progress(
      `downloading connect-mirror ${versions.KAFKA_VERSION} from Maven Central (once; cached in ${dir})`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "pom.xml"), pom());
    const result = spawnSync(
      "mvn",
      ["-B", "-q", "dependency:copy-dependencies", `-DoutputDirectory=${libs}`, "-DincludeScope=runtime"],
      { cwd: dir, encoding: "utf8" },
    );
    if (result.error) throw new Error(`Maven not found (${result.error.message}): apt-get install maven`);
    if (result.status !== 0) {
      const output = `${result.stdout}${result.stderr}`.trim().split("\n").slice(-10).join("\n");
      throw new Error(`download of connect-mirror failed (mvn exit ${result.status}):\n${output}`);
    }
    fs.writeFileSync(path.join(dir, ".complete"), "");
  }
  return path.join(libs, "*");
}

function pom(): string {
  const dependencies: Array<[string, string, string]> = [
    ["org.apache.kafka", "connect-mirror", versions.KAFKA_VERSION],
    ["org.apache.kafka", "connect-runtime", versions.KAFKA_VERSION],
    ["org.apache.logging.log4j", "log4j-slf4j-impl", versions.LOG4J_VERSION],
  ];
  const deps = dependencies
    .map(
      ([g, a, v]) =>
        `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`,
    )
    .join("\n    ");
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.tandem.bench</groupId><artifactId>connect-mirror</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    ${deps}
  </dependencies>
</project>
`;
}
