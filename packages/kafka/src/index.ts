export { createKafka } from "./client";
export {
  ensureTopics,
  ensureSiteTopics,
  groupLagRecords,
  partitionCount,
  DEFAULT_PARTITIONS,
} from "./topics";
export { deadLetterMessage, DLQ_HEADERS, type DeadLetter } from "./dead-letter";
export { isRetriableCrash } from "./consumers";
export { SupervisedConsumer, type SupervisedConsumerOptions } from "./supervised-consumer";
