import type { Consumer, ConsumerConfig, ConsumerRunConfig } from "kafkajs";

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

/**
 * `consumer.run()`, failing when the consumer crashes while it starts: kafkajs reports a failure to join the
 * group as a crash during `run()`, not as an error of `run()`.
 */
export async function runConsumer(consumer: Consumer, config: ConsumerRunConfig): Promise<void> {
  let crash: Error | undefined;
  const stopListening = consumer.on(consumer.events.CRASH, ({ payload }) => {
    crash ??= payload.error;
  });
  try {
    await consumer.run(config);
  } finally {
    stopListening();
  }
  if (crash !== undefined) throw crash;
}

/** Whether kafkajs would have restarted a consumer after this crash (it restarts after retriable errors only). */
export function isRetriableCrash(error: Error): boolean {
  let cause: unknown = error;
  while ((cause as { cause?: unknown }).cause !== undefined) cause = (cause as { cause: unknown }).cause;
  return (
    error.name === "KafkaJSNumberOfRetriesExceeded" || (cause as { retriable?: boolean }).retriable === true
  );
}
