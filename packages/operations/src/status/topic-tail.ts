import type { Kafka, KafkaMessage } from "kafkajs";

/**
 * The last `tail` records of each partition of `topic` (all of them when `tail` is undefined), in arrival
 * order per partition, read in a throwaway group up to the ends seen when the read started; whatever
 * arrived within `timeoutMs` when the cluster is slow.
 */
export async function readTopicTail(
  kafka: Kafka,
  topic: string,
  options: { tail?: number; timeoutMs?: number } = {},
): Promise<Array<KafkaMessage & { partition: number }>> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).catch(() => []);
  await admin.disconnect();
  const pending = ends.filter((e) => Number(e.high) > Number(e.low));
  if (pending.length === 0) return [];
  const read: Array<KafkaMessage & { partition: number }> = [];
  const consumer = kafka.consumer({ groupId: `tandem-status-${crypto.randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const remaining = new Map(pending.map((e) => [e.partition, Number(e.high) - 1]));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, options.timeoutMs ?? 10_000);
    void consumer.run({
      // Nothing committed: the broker drops the throwaway group once it is empty, instead of keeping it.
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        read.push({ ...message, partition });
        if (Number(message.offset) >= (remaining.get(partition) ?? -1)) remaining.delete(partition);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
    for (const end of pending) {
      const tail = options.tail ?? Number.POSITIVE_INFINITY;
      const from = Math.max(Number(end.low), Number(end.high) - tail);
      consumer.seek({ topic, partition: end.partition, offset: String(from) });
    }
  });
  await consumer.disconnect();
  return read;
}
