import type { StackCredentials } from "../credentials";
import type { Artifacts } from "../artifacts";
import type { SitePorts } from "../layout";
import type { ManagedProcess } from "../processes";
import type { WanListener } from "./kafka-properties";

export interface SiteContext {
  dataDir: string;
  site: string;
  ports: SitePorts;
  credentials: StackCredentials;
  /** Kafka clients must come over TLS with SASL/SCRAM (the stack's CA and `credentials.kafka`). */
  secure: boolean;
  /** WAN profile: the broker's listeners for remote sites' clients, which come through proxies. */
  wanListeners: readonly WanListener[];
}

/** What starting a JVM server needs; resolved only when something is started. */
export interface Runtime {
  java: string;
  /** Given to every server's JVM before its own options (TANDEM_STACK_JAVA_OPTIONS). */
  javaOptions: string[];
  artifacts: Artifacts;
}

/** One server of a site: how to start it and how to know it answers. */
export interface LocalServer {
  proc: ManagedProcess;
  port: number;
  start(runtime: Runtime): Promise<void>;
  /** Resolves when the server answers a real request; throws with the log tail when it does not. */
  waitReady(timeoutMs: number): Promise<void>;
}
