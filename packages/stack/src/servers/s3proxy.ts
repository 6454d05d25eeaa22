import fs from "node:fs";
import path from "node:path";
import { BucketAlreadyOwnedByYou, CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { bucketName, serverDir } from "../layout";
import { startDetached, waitUntil } from "../processes";
import type { LocalServer, SiteContext } from "./context";

/**
 * S3Proxy's jar has no logging configuration, and logback's default is DEBUG: Jetty then describes every
 * chunk of every body (600 lines for a 200 kB PUT, each request's Authorization header among them), which
 * cost a PUT 27 ms of CPU against 7.5 at INFO.
 */
const LOGBACK_CONFIGURATION = `<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>[%d] %level %msg [%logger]%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
`;

export function s3proxyServer(ctx: SiteContext): LocalServer {
  const dir = serverDir(ctx.dataDir, ctx.site, "s3");
  const blobs = path.join(dir, "blobs");
  const propertiesFile = path.join(dir, "s3proxy.properties");
  const loggingFile = path.join(dir, "logback.xml");
  const proc = { name: `${ctx.site} s3proxy`, dir, marker: propertiesFile, stopSignal: "SIGTERM" as const };
  const port = ctx.ports.s3;
  const { accessKeyId, secretAccessKey } = ctx.credentials.s3;

  return {
    proc,
    port,
    async start(runtime) {
      fs.mkdirSync(blobs, { recursive: true });
      fs.writeFileSync(
        propertiesFile,
        [
          `s3proxy.endpoint=http://127.0.0.1:${port}`,
          "s3proxy.authorization=aws-v2-or-v4",
          `s3proxy.identity=${accessKeyId}`,
          `s3proxy.credential=${secretAccessKey}`,
          "jclouds.provider=filesystem",
          `jclouds.filesystem.basedir=${blobs}`,
          "",
        ].join("\n"),
        { mode: 0o600 },
      );
      fs.writeFileSync(loggingFile, LOGBACK_CONFIGURATION);
      startDetached(proc, runtime.java, [
        ...runtime.javaOptions,
        "-Xmx256m",
        `-Dlogback.configurationFile=${loggingFile}`,
        "-cp",
        runtime.artifacts.s3proxyClasspath,
        "org.gaul.s3proxy.Main",
        "--properties",
        propertiesFile,
      ]);
    },
    async waitReady(timeoutMs) {
      const client = new S3Client({
        endpoint: `http://127.0.0.1:${port}`,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId, secretAccessKey },
        maxAttempts: 1,
      });
      await waitUntil(
        proc,
        `answer on port ${port}`,
        async () => {
          try {
            await client.send(new CreateBucketCommand({ Bucket: bucketName(ctx.site) }));
          } catch (error) {
            if (!(error instanceof BucketAlreadyOwnedByYou)) throw error;
          }
          return true;
        },
        timeoutMs,
      );
      client.destroy();
    },
  };
}
