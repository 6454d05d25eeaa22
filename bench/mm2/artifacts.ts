import { resolveClasspath, versions } from "@tandem/stack";

/**
 * MirrorMaker 2's classpath (connect-mirror, connect-runtime and a log4j2 binding for slf4j) resolved from
 * Maven Central by Maven into the cache, once, the way the local stack resolves its server jars.
 */
export function resolveMirrorMakerClasspath(cache: string, progress: (message: string) => void): string {
  return resolveClasspath(
    cache,
    `connect-mirror-${versions.KAFKA_VERSION}`,
    [
      ["org.apache.kafka", "connect-mirror", versions.KAFKA_VERSION],
      ["org.apache.kafka", "connect-runtime", versions.KAFKA_VERSION],
      ["org.apache.logging.log4j", "log4j-slf4j-impl", versions.LOG4J_VERSION],
    ],
    progress,
  );
}
