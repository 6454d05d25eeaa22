/**
 * Pinned server versions of the local stack, in one place.
 * Kafka 4.1.1: kafkajs 2.2.4 works against it for consumer groups, idempotent and transactional
 * producers and the admin API (see README "Versions").
 */
export const KAFKA_VERSION = "4.1.1";
export const LOG4J_VERSION = "2.24.3";
export const APICURIO_VERSION = "3.0.9";
export const S3PROXY_VERSION = "2.7.0";
export const MIN_JAVA_MAJOR = 17;
/** Built from source by `go install` from the Go module proxy (the WAN profile). */
export const TOXIPROXY_VERSION = "v2.12.0";
