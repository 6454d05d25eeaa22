export { createKafka } from "./client";
export { ensureTopics, ensureSiteTopics, partitionCount, DEFAULT_PARTITIONS } from "./topics";
