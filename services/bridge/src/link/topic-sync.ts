import type { Admin } from "kafkajs";
import type { LinkConfig } from "@tandem/config";
import { REPLICATED_TOPIC_CONFIGS, ensureTopics, explicitTopicConfig, partitionCount } from "@tandem/kafka";
import { STREAM_TOPICS, remoteTopic } from "@tandem/replication";

/**
 * The link's remote topics at the target, created with as many partitions as their source topic and its
 * retention, cleanup policy and record size limit; a source topic that inherits its broker's retention
 * gives a remote topic that keeps every record, the log being what sites are filled from.
 */
export class TargetTopicSync {
  private readonly partitions = new Map<string, number>();

  constructor(
    private readonly sourceAdmin: Admin,
    private readonly targetAdmin: Admin,
  ) {}

  /**
   * The target topics of the link's own streams exist from the start, so that the target's materializer
   * subscribes to them before the first record arrives.
   */
  async ensureStreamTopics(link: Pick<LinkConfig, "from" | "streams">): Promise<void> {
    for (const stream of link.streams) {
      const local = STREAM_TOPICS[stream];
      await this.targetPartition(local, remoteTopic(link.from, local), 0);
    }
  }

  async targetPartition(sourceTopic: string, targetTopic: string, partition: number): Promise<number> {
    let count = this.partitions.get(targetTopic);
    if (count === undefined) {
      const wanted = Math.max(1, await partitionCount(this.sourceAdmin, sourceTopic));
      const copied = await explicitTopicConfig(this.sourceAdmin, sourceTopic, REPLICATED_TOPIC_CONFIGS);
      const configEntries = [...new Map([["retention.ms", "-1"], ...copied])].map(([name, value]) => ({
        name,
        value,
      }));
      await ensureTopics(this.targetAdmin, [{ topic: targetTopic, numPartitions: wanted, configEntries }]);
      count = await partitionCount(this.targetAdmin, targetTopic);
      this.partitions.set(targetTopic, count);
    }
    return partition % count;
  }
}
