import type { Admin, Consumer, ConsumerConfig, ConsumerRunConfig } from "kafkajs";

/**
 * Retry options for Tandem's long-lived consumers: kafkajs retries each request, but never restarts a
 * crashed consumer by itself; the consumer's owner replaces it. A `disconnect()` that comes while kafkajs
 * restarts a consumer (its new member still joining the group) does not stop it: the consumer comes back as
 * a member that nothing references, holding partitions its successor never gets. A soak run saw a site stop
 * applying its peers' events for good that way, after a Kafka outage.
 */
export const REPLACED_ON_CRASH: NonNullable<ConsumerConfig["retry"]> = {
  // About 9 s at most a second apart (the client's retry), before the consumer is replaced.
  retries: 10,
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

/**
 * How many members a consumer group has, asked again every `intervalMs`: instances that share a cap take
 * their part of it. 1 until the first answer, and while the cluster does not answer.
 */
export class GroupSizeWatch {
  private members = 1;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly intervalMs = 30_000,
  ) {}

  get size(): number {
    return this.members;
  }

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    try {
      const { groups } = await this.admin.describeGroups([this.groupId]);
      this.members = Math.max(1, groups[0]?.members.length ?? 1);
    } catch {
      // The last answer stands until the cluster answers again.
    }
  }
}
