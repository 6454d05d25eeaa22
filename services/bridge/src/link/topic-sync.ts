import type { Admin } from "kafkajs";
import type { LinkConfig } from "@tandem/config";
import {
  REPLICATED_TOPIC_CONFIGS,
  ensureTopics,
  explicitTopicConfig,
  partitionCount,
  setTopicConfig,
} from "@tandem/kafka";
import { STREAM_TOPICS, remoteTopic } from "@tandem/replication";
import { configAfterSync, remoteTopicConfig } from "../core/topic-configs";

/**
 * The link's remote topics at the target, created with as many partitions as their source topic and its
 * retention, cleanup policy and record size limit (see `remoteTopicConfig`); `syncConfigs` copies later
 * changes of those settings, as MirrorMaker 2's periodic topic-config sync does.
 */
export class TargetTopicSync {
  private readonly partitions = new Map<string, number>();
  /** Per remote topic this sync created or found, its source topic. */
  private readonly sources = new Map<string, string>();

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
      const configEntries = [...(await this.wantedConfig(sourceTopic))].map(([name, value]) => ({
        name,
        value,
      }));
      await ensureTopics(this.targetAdmin, [{ topic: targetTopic, numPartitions: wanted, configEntries }]);
      count = await partitionCount(this.targetAdmin, targetTopic);
      this.partitions.set(targetTopic, count);
      this.sources.set(targetTopic, sourceTopic);
    }
    return partition % count;
  }

  /**
   * Gives every remote topic known here its source's settings as they are now (a source topic whose
   * retention an operator changed after the remote topic was created); returns the topics altered.
   */
  async syncConfigs(): Promise<string[]> {
    const altered: string[] = [];
    for (const [targetTopic, sourceTopic] of this.sources) {
      const wanted = await this.wantedConfig(sourceTopic);
      const next = configAfterSync(wanted, await explicitTopicConfig(this.targetAdmin, targetTopic));
      if (next === undefined) continue;
      await setTopicConfig(this.targetAdmin, targetTopic, next);
      altered.push(targetTopic);
    }
    return altered;
  }

  private async wantedConfig(sourceTopic: string): Promise<Map<string, string>> {
    return remoteTopicConfig(
      await explicitTopicConfig(this.sourceAdmin, sourceTopic, REPLICATED_TOPIC_CONFIGS),
    );
  }
}
