import type { ConsumerConfig } from "kafkajs";

/**
 * Retry options for Tandem's long-lived consumers: kafkajs retries each request, but never restarts a
 * crashed consumer by itself; the consumer's owner replaces it. A `disconnect()` that comes while kafkajs
 * restarts a consumer (its new member still joining the group) does not stop it: the consumer comes back as
 * a member that nothing references, holding partitions its successor never gets. A soak run saw a site stop
 * applying its peers' events for good that way, after a Kafka outage.
 */
export const REPLACED_ON_CRASH: NonNullable<ConsumerConfig["retry"]> = {
  retries: 5,
  restartOnFailure: async () => false,
};
