/** `tandem inspect`: the newest records of one topic at a site, decoded. */
import type { Kafka } from "kafkajs";
import type { EventCodec } from "@tandem/events";
import { inspectedTopic, lastRanges, newest } from "./plan";
import { partitionOffsets, readRanges, type ReadRecord } from "./reader";
import { viewRecord, type RecordView } from "./records";

export interface Inspection {
  records: RecordView[];
  /** Records in the topic now (high minus low offsets, over all partitions). */
  retained: number;
  partitions: number;
}

export async function inspectTopic(input: {
  kafka: Kafka;
  codec: EventCodec;
  site: string;
  topic: string;
  last: number;
}): Promise<Inspection> {
  const admin = input.kafka.admin();
  await admin.connect();
  let offsets;
  try {
    const topic = inspectedTopic(input.topic, await admin.listTopics(), input.site);
    offsets = await partitionOffsets(admin, topic);
  } finally {
    await admin.disconnect();
  }
  const read: ReadRecord[] = [];
  await readRanges(
    input.kafka,
    lastRanges(input.topic, offsets, input.last),
    async (records) => {
      read.push(...records);
    },
    { purpose: "inspect" },
  );
  const records: RecordView[] = [];
  for (const record of newest(read, input.last)) records.push(await viewRecord(input.codec, record));
  return {
    records,
    retained: offsets.reduce((sum, o) => sum + (o.high - o.low), 0),
    partitions: offsets.length,
  };
}
