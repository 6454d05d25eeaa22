import type { Producer } from "kafkajs";
import { HEARTBEATS_TOPIC } from "@tandem/events";
import type { Logger } from "@tandem/runtime";
import { heartbeatMessage } from "@tandem/replication";

/** Writes the link's heartbeat to the source site's `tandem.heartbeats` at a fixed interval. */
export class HeartbeatEmitter {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly producer: Producer,
    private readonly linkId: string,
    private readonly logger: Logger,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.emit(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async emit(): Promise<void> {
    try {
      await this.producer.send({
        topic: HEARTBEATS_TOPIC,
        acks: -1,
        messages: [heartbeatMessage(this.linkId, new Date())],
      });
    } catch (error) {
      this.logger.debug({ error: (error as Error).message }, "heartbeat not sent");
    }
  }
}
