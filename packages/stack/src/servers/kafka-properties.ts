import type { SitePorts } from "../layout";

/** SCRAM mechanisms a secure broker accepts; the stack's user has credentials for each. */
export const SCRAM_MECHANISMS = ["SCRAM-SHA-512", "SCRAM-SHA-256"] as const;

export interface BrokerTls {
  keystore: string;
  password: string;
}

/** A listener for one remote site's clients, which come through a WAN proxy: advertised at the proxy. */
export interface WanListener {
  name: string;
  port: number;
  advertisedPort: number;
}

export interface BrokerSettings {
  ports: SitePorts;
  logDir: string;
  /** Secure mode: clients on SASL_SSL with this keystore, inter-broker on a loopback PLAINTEXT listener. */
  tls?: BrokerTls;
  wanListeners?: readonly WanListener[];
}

const SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule required;";

const jaasLines = (listener: string) =>
  SCRAM_MECHANISMS.map(
    (mechanism) =>
      `listener.name.${listener.toLowerCase()}.${mechanism.toLowerCase()}.sasl.jaas.config=${SCRAM_LOGIN}`,
  );

function listenerLines({ ports, tls, wanListeners = [] }: BrokerSettings): string[] {
  const { kafka, kafkaController, kafkaInternal } = ports;
  const wanListen = wanListeners.map((w) => `,${w.name}://127.0.0.1:${w.port}`).join("");
  const wanAdvertised = wanListeners.map((w) => `,${w.name}://127.0.0.1:${w.advertisedPort}`).join("");
  const wanProtocol = (protocol: string) => wanListeners.map((w) => `,${w.name}:${protocol}`).join("");
  if (tls === undefined) {
    return [
      `listeners=PLAINTEXT://127.0.0.1:${kafka},CONTROLLER://127.0.0.1:${kafkaController}${wanListen}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${kafka}${wanAdvertised}`,
      "controller.listener.names=CONTROLLER",
      `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${wanProtocol("PLAINTEXT")}`,
      "inter.broker.listener.name=PLAINTEXT",
    ];
  }
  return [
    `listeners=SASL_SSL://127.0.0.1:${kafka},INTERNAL://127.0.0.1:${kafkaInternal},CONTROLLER://127.0.0.1:${kafkaController}${wanListen}`,
    `advertised.listeners=SASL_SSL://127.0.0.1:${kafka},INTERNAL://127.0.0.1:${kafkaInternal}${wanAdvertised}`,
    "controller.listener.names=CONTROLLER",
    `listener.security.protocol.map=SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT${wanProtocol("SASL_SSL")}`,
    "inter.broker.listener.name=INTERNAL",
    `sasl.enabled.mechanisms=${SCRAM_MECHANISMS.join(",")}`,
    ...jaasLines("sasl_ssl"),
    ...wanListeners.flatMap((w) => jaasLines(w.name)),
    "ssl.keystore.type=PKCS12",
    `ssl.keystore.location=${tls.keystore}`,
    `ssl.keystore.password=${tls.password}`,
    `ssl.key.password=${tls.password}`,
    "ssl.client.auth=none",
  ];
}

/** A single combined broker/controller in KRaft mode; internal topics get replication factor 1. */
export function serverProperties(settings: BrokerSettings): string {
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${settings.ports.kafkaController}`,
    ...listenerLines(settings),
    `log.dirs=${settings.logDir}`,
    "num.partitions=3",
    "auto.create.topics.enable=false",
    "offsets.topic.replication.factor=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "group.initial.rebalance.delay.ms=0",
    "",
  ].join("\n");
}

/** `--add-scram` arguments of the storage tool: the user's credentials for every enabled mechanism. */
export function scramFormatArgs(username: string, password: string): string[] {
  for (const [what, value] of [
    ["username", username],
    ["password", password],
  ] as const) {
    if (!/^[A-Za-z0-9_.-]+$/.test(value)) {
      throw new Error(
        `the SCRAM ${what} may only hold letters, digits, '.', '_' or '-': the storage tool splits on others`,
      );
    }
  }
  return SCRAM_MECHANISMS.flatMap((mechanism) => [
    "--add-scram",
    `${mechanism}=[name=${username},password=${password}]`,
  ]);
}
