export { createKafka, MAX_RETRY_MS } from "./client";
export {
  ensureTopics,
  ensureSiteTopics,
  groupCommittedRecords,
  groupLagRecords,
  partitionCount,
  explicitTopicConfig,
  setTopicConfig,
  topicRetentionMs,
  DEFAULT_PARTITIONS,
  REPLICATED_TOPIC_CONFIGS,
} from "./topics";
export { recordGap } from "./gaps";
export { deadLetterMessage, DLQ_HEADERS, type DeadLetter } from "./dead-letter";
export { GroupSizeWatch, isRetriableCrash } from "./consumers";
export { SupervisedConsumer, type SupervisedConsumerOptions } from "./supervised-consumer";
export { KAFKAJS_HEARTBEAT_INTERVAL_MS } from "./heartbeat-ahead";
