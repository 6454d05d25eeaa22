import { CALLS_TOPIC, DLQ_TOPIC, GAPS_TOPIC, HEARTBEATS_TOPIC, USERS_TOPIC } from "@tandem/events";
import kafkajs, { type Admin, type ITopicConfig } from "kafkajs";

// kafkajs is CommonJS: Node's named-export detection misses this one, so it is read off the module object.
const { ConfigResourceTypes } = kafkajs;

/**
 * Creates the topics that are missing, with the given partition counts; topics created meanwhile by
 * another instance are fine.
 */
export async function ensureTopics(
  admin: Admin,
  topics: Array<Pick<ITopicConfig, "topic" | "numPartitions" | "configEntries">>,
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return;
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  } catch (error) {
    const type = protocolErrorType(error);
    const nested = (error as { errors?: Array<{ type?: string }> }).errors;
    if (type === "UNKNOWN_TOPIC_OR_PARTITION") {
      // Created by the controller, not yet in the broker's metadata (KRaft applies it a moment later, more
      // under load); kafkajs waits out only a missing leader.
      await awaitLeaders(
        admin,
        missing.map((t) => t.topic),
      );
    } else if (type !== "TOPIC_ALREADY_EXISTS" && !nested?.every((e) => e.type === "TOPIC_ALREADY_EXISTS")) {
      throw error;
    }
  }
}

/** The Kafka error code's name of a kafkajs error, or of the error it wraps. */
function protocolErrorType(error: unknown): string | undefined {
  for (let e = error as { type?: string; cause?: unknown } | undefined; e !== undefined;) {
    if (e.type !== undefined) return e.type;
    e = e.cause as typeof e;
  }
  return undefined;
}

const LEADER_WAIT_MS = 30_000;

async function awaitLeaders(admin: Admin, topics: string[]): Promise<void> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  for (;;) {
    try {
      const { topics: described } = await admin.fetchTopicMetadata({ topics });
      if (described.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`topics without a leader after ${LEADER_WAIT_MS / 1000} s: ${topics.join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Records in `topics` that a consumer group has not committed yet: end offsets minus committed offsets (a
 * partition never committed counts from its low offset).
 */
export async function groupLagRecords(admin: Admin, groupId: string, topics: string[]): Promise<number> {
  if (topics.length === 0) return 0;
  const committed = await admin.fetchOffsets({ groupId, topics });
  let lag = 0;
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const partitions = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const end of ends) {
      const at = Number(partitions.find((p) => p.partition === end.partition)?.offset ?? "-1");
      lag += Math.max(0, Number(end.high) - (at < 0 ? Number(end.low) : at));
    }
  }
  return lag;
}

/** The sum of a group's committed offsets over `topics`: how far it has read them in all. */
export async function groupCommittedRecords(
  admin: Admin,
  groupId: string,
  topics: string[],
): Promise<number> {
  if (topics.length === 0) return 0;
  const committed = await admin.fetchOffsets({ groupId, topics });
  return committed.flatMap((c) => c.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

export async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]?.partitions.length ?? 0;
}

/**
 * The topic settings a bridge copies from a source topic to the remote topic it creates, as MirrorMaker 2's
 * topic-config sync does: how long records stay, how they are cleaned up, how large one may be.
 */
export const REPLICATED_TOPIC_CONFIGS = ["retention.ms", "cleanup.policy", "max.message.bytes"] as const;

async function describeTopicConfig(admin: Admin, topic: string, names?: readonly string[]) {
  const described = await admin.describeConfigs({
    resources: [
      {
        type: ConfigResourceTypes.TOPIC,
        name: topic,
        ...(names === undefined ? {} : { configNames: [...names] }),
      },
    ],
    includeSynonyms: false,
  });
  return described.resources[0]?.configEntries ?? [];
}

/**
 * The settings of `topic` (among `names`, all when none are given) that are set on the topic itself, not
 * inherited from the broker.
 */
export async function explicitTopicConfig(
  admin: Admin,
  topic: string,
  names?: readonly string[],
): Promise<Map<string, string>> {
  const explicit = new Map<string, string>();
  for (const entry of await describeTopicConfig(admin, topic, names)) {
    if (!entry.isDefault && entry.configValue !== null) explicit.set(entry.configName, entry.configValue);
  }
  return explicit;
}

/** Replaces the settings set on `topic` itself by `config` (kafkajs has no incremental alteration). */
export async function setTopicConfig(admin: Admin, topic: string, config: ReadonlyMap<string, string>) {
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      {
        type: ConfigResourceTypes.TOPIC,
        name: topic,
        configEntries: [...config].map(([name, value]) => ({ name, value })),
      },
    ],
  });
}

/** How long a topic keeps its records, inherited from the broker or not; -1 for ever. */
export async function topicRetentionMs(admin: Admin, topic: string): Promise<number> {
  const [entry] = await describeTopicConfig(admin, topic, ["retention.ms"]);
  return Number(entry?.configValue ?? "-1");
}

/** Partitions of a site's own topics when Tandem creates them; bridges copy the count to remote topics. */
export const DEFAULT_PARTITIONS = 3;

/**
 * The topics every site has: its local event topics and Tandem's own. Event topics and the DLQ keep their
 * records for `retentionMs` (-1: for ever), since the log is what links resume from and sites are filled from.
 */
export async function ensureSiteTopics(admin: Admin, retentionMs = -1): Promise<void> {
  const kept = [{ name: "retention.ms", value: String(retentionMs) }];
  await ensureTopics(admin, [
    { topic: CALLS_TOPIC, numPartitions: DEFAULT_PARTITIONS, configEntries: kept },
    { topic: USERS_TOPIC, numPartitions: DEFAULT_PARTITIONS, configEntries: kept },
    { topic: DLQ_TOPIC, numPartitions: 1, configEntries: kept },
    { topic: HEARTBEATS_TOPIC, numPartitions: 1 },
    // One record per lost range, then its acknowledgement under the same key: compaction keeps the latest.
    {
      topic: GAPS_TOPIC,
      numPartitions: 1,
      configEntries: [
        { name: "cleanup.policy", value: "compact" },
        { name: "retention.ms", value: "-1" },
      ],
    },
  ]);
}
