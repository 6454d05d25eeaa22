import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { once } from "node:events";
import { log4j2Properties } from "@tandem/stack";
import { TANDEM } from "../../test/support/processes";

/** A mirror running as a child process, with its output in a log file. */
export interface MirrorProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or signal) when the process ends, whoever ended it. */
  exited: Promise<string>;
  /** SIGTERM (a graceful stop), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<string>;
}

function track(name: string, child: ChildProcess, logFile: string): MirrorProcess {
  if (child.pid === undefined) throw new Error(`${name} did not start (see ${logFile})`);
  const exited = once(child, "exit").then(([code, signal]) =>
    code === null ? `signal ${String(signal)}` : `exit ${String(code)}`,
  );
  return {
    name,
    pid: child.pid,
    logFile,
    exited,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const how = await exited;
      clearTimeout(timer);
      return how;
    },
  };
}

function logStream(logFile: string): number {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  return fs.openSync(logFile, "w");
}

export interface BridgeProcessOptions {
  topologyFile: string;
  site: string;
  logFile: string;
  /** `--instance`: several bridges of one site share its links' partitions. */
  instance?: string;
  /** When set, the bridge runs with `--cpu-prof` and writes its profile there on exit. */
  cpuProfileDir?: string;
}

/** Tandem's bridge as operators run it: `tandem run --role bridge`, one Node process. */
export function startTandemBridge(options: BridgeProcessOptions): MirrorProcess {
  const log = logStream(options.logFile);
  const profile =
    options.cpuProfileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`];
  const child = spawn(
    process.execPath,
    [
      ...profile,
      ...TANDEM,
      "run",
      "--config",
      options.topologyFile,
      "--site",
      options.site,
      "--role",
      "bridge",
      ...(options.instance === undefined ? [] : ["--instance", options.instance]),
    ],
    { stdio: ["ignore", log, log], env: { ...process.env, TANDEM_LOG_LEVEL: "info" } },
  );
  fs.closeSync(log);
  return track("tandem bridge", child, options.logFile);
}

export interface MirrorMakerOptions {
  java: string;
  classpath: string;
  workDir: string;
  clusters: Record<string, string>;
  from: string;
  to: string;
  topic: string;
  /** `tasks.max`: MirrorMaker 2's default is one task, one consumer, for every partition. */
  tasksMax?: number;
}

/**
 * MirrorMaker 2's properties for one flow `from -> to` of one topic between single-broker clusters: every
 * internal topic with replication factor 1, ACL sync off (no authorizer), and short refresh intervals so
 * that it starts copying at once.
 */
export function mirrorMakerProperties(options: Omit<MirrorMakerOptions, "java" | "classpath" | "workDir">) {
  const { clusters, from, to, topic, tasksMax } = options;
  const aliases = Object.keys(clusters);
  return [
    `clusters = ${aliases.join(", ")}`,
    ...aliases.map((alias) => `${alias}.bootstrap.servers = ${clusters[alias]}`),
    `${from}->${to}.enabled = true`,
    `${to}->${from}.enabled = false`,
    `${from}->${to}.topics = ${topic.replaceAll(".", "\\\\.")}`,
    "replication.factor = 1",
    "offset-syncs.topic.replication.factor = 1",
    "checkpoints.topic.replication.factor = 1",
    "heartbeats.topic.replication.factor = 1",
    "config.storage.replication.factor = 1",
    "offset.storage.replication.factor = 1",
    "status.storage.replication.factor = 1",
    "sync.topic.acls.enabled = false",
    "emit.checkpoints.enabled = true",
    "emit.checkpoints.interval.seconds = 1",
    "emit.heartbeats.interval.seconds = 1",
    "refresh.topics.interval.seconds = 5",
    "refresh.groups.interval.seconds = 5",
    "sync.group.offsets.enabled = false",
    ...(tasksMax === undefined ? [] : [`tasks.max = ${tasksMax}`]),
    "",
  ].join("\n");
}

const LOG4J2_PROPERTIES = log4j2Properties({ clients: "org.apache.kafka.clients" });

/**
 * The JVM options of Kafka's `connect-mirror-maker.sh` (heap) and `kafka-run-class.sh` (G1 settings), so
 * MirrorMaker 2 runs as its own launcher would run it.
 */
const JVM_OPTIONS = [
  "-Xms256M",
  "-Xmx2G",
  "-server",
  "-XX:+UseG1GC",
  "-XX:MaxGCPauseMillis=20",
  "-XX:InitiatingHeapOccupancyPercent=35",
  "-XX:+ExplicitGCInvokesConcurrent",
  "-XX:MaxInlineLevel=15",
  "-Djava.awt.headless=true",
];

/** MirrorMaker 2 in dedicated mode (`org.apache.kafka.connect.mirror.MirrorMaker`), one JVM. */
export function startMirrorMaker(options: MirrorMakerOptions): MirrorProcess {
  fs.mkdirSync(options.workDir, { recursive: true });
  const propertiesFile = path.join(options.workDir, "mm2.properties");
  const log4jFile = path.join(options.workDir, "log4j2.properties");
  fs.writeFileSync(propertiesFile, mirrorMakerProperties(options));
  fs.writeFileSync(log4jFile, LOG4J2_PROPERTIES);
  const logFile = path.join(options.workDir, "mm2.log");
  const log = logStream(logFile);
  const child = spawn(
    options.java,
    [
      ...JVM_OPTIONS,
      `-Dlog4j2.configurationFile=${log4jFile}`,
      "-cp",
      options.classpath,
      "org.apache.kafka.connect.mirror.MirrorMaker",
      propertiesFile,
    ],
    { stdio: ["ignore", log, log] },
  );
  fs.closeSync(log);
  return track("MirrorMaker 2", child, logFile);
}

/** The java executable (JAVA_HOME first, as the local stack does) and its version line. */
export function javaRuntime(env: NodeJS.ProcessEnv = process.env): { java: string; version: string } {
  const java = env.JAVA_HOME ? path.join(env.JAVA_HOME, "bin", "java") : "java";
  const result = spawnSync(java, ["-version"], { encoding: "utf8" });
  if (result.error) throw new Error(`Java not found (${java}): MirrorMaker 2 needs Java 17+`);
  return { java, version: `${result.stderr}${result.stdout}`.split("\n")[0]?.trim() ?? "unknown" };
}
