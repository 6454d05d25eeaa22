export { createKafka } from "./client";
export { ensureTopics, ensureSiteTopics, partitionCount, DEFAULT_PARTITIONS } from "./topics";
export {
  deadLetterMessage,
  DLQ_REASON_HEADER,
  DLQ_SOURCE_HEADER,
  DLQ_COMPONENT_HEADER,
  type DeadLetter,
} from "./dead-letter";
