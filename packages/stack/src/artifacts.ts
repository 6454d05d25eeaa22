import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { APICURIO_VERSION, KAFKA_VERSION, LOG4J_VERSION, S3PROXY_VERSION } from "./versions";

/**
 * Server jars resolved from Maven Central by Maven into the cache directory, once.
 * A `.complete` marker makes an interrupted download start again instead of running half a classpath.
 */
export interface Artifacts {
  kafkaClasspath: string;
  s3proxyClasspath: string;
  apicurioRunner: string;
}

type Progress = (message: string) => void;

function mvn(args: string[], cwd: string, what: string): void {
  const result = spawnSync("mvn", ["-B", "-q", ...args], { cwd, encoding: "utf8" });
  if (result.error) {
    throw new Error(
      `Maven not found (${result.error.message}): install it (apt-get install maven) to fetch ${what}`,
    );
  }
  if (result.status !== 0) {
    const output = `${result.stdout}${result.stderr}`.trim().split("\n").slice(-10).join("\n");
    throw new Error(`download of ${what} from Maven Central failed (mvn exit ${result.status}):\n${output}`);
  }
}

function pom(artifactId: string, dependencies: Array<[string, string, string]>): string {
  const deps = dependencies
    .map(
      ([g, a, v]) =>
        `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`,
    )
    .join("\n    ");
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.tandem.stack</groupId><artifactId>${artifactId}</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    ${deps}
  </dependencies>
</project>
`;
}

/** A classpath of Maven artifacts and their runtime dependencies, resolved into `cache/name` once. */
export function resolveClasspath(
  cache: string,
  name: string,
  dependencies: Array<[string, string, string]>,
  progress: Progress,
): string {
  const dir = path.join(cache, name);
  const libs = path.join(dir, "libs");
  if (!fs.existsSync(path.join(dir, ".complete"))) {
    progress(`downloading ${name} from Maven Central (once; cached in ${dir})`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "pom.xml"), pom(name, dependencies));
    mvn(["dependency:copy-dependencies", `-DoutputDirectory=${libs}`, "-DincludeScope=runtime"], dir, name);
    fs.writeFileSync(path.join(dir, ".complete"), "");
  }
  return path.join(libs, "*");
}

function resolveApicurio(cache: string, progress: Progress): string {
  const name = `apicurio-registry-${APICURIO_VERSION}`;
  const dir = path.join(cache, name);
  const runner = path.join(dir, `apicurio-registry-app-${APICURIO_VERSION}-runner.jar`);
  if (!fs.existsSync(path.join(dir, ".complete"))) {
    progress(`downloading ${name} from Maven Central (once; cached in ${dir})`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const artifact = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;
    mvn(["dependency:copy", `-Dartifact=${artifact}`, `-DoutputDirectory=${dir}`], dir, name);
    const archive = path.join(dir, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`);
    const untar = spawnSync("tar", ["xzf", archive, "-C", dir], { encoding: "utf8" });
    if (untar.status !== 0) throw new Error(`unpacking ${archive} failed: ${untar.stderr}`);
    fs.rmSync(archive);
    if (!fs.existsSync(runner)) throw new Error(`${name}: ${runner} missing after unpacking`);
    fs.writeFileSync(path.join(dir, ".complete"), "");
  }
  return runner;
}

export function resolveArtifacts(cache: string, progress: Progress): Artifacts {
  fs.mkdirSync(cache, { recursive: true });
  return {
    kafkaClasspath: resolveClasspath(
      cache,
      `kafka-${KAFKA_VERSION}`,
      [
        ["org.apache.kafka", "kafka_2.13", KAFKA_VERSION],
        ["org.apache.logging.log4j", "log4j-slf4j-impl", LOG4J_VERSION],
      ],
      progress,
    ),
    s3proxyClasspath: resolveClasspath(
      cache,
      `s3proxy-${S3PROXY_VERSION}`,
      [["org.gaul", "s3proxy", S3PROXY_VERSION]],
      progress,
    ),
    apicurioRunner: resolveApicurio(cache, progress),
  };
}
