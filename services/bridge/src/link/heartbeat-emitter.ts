import type { Producer } from "kafkajs";
import { HEARTBEATS_TOPIC } from "@tandem/events";
import type { Logger } from "@tandem/runtime";
import { heartbeatMessage } from "@tandem/replication";

/**
 * Writes the link's heartbeat to the source site's `tandem.heartbeats` at a fixed interval. A heartbeat the
 * source does not take is reported: it is the first sign of a source out of reach.
 */
export class HeartbeatEmitter {
  private timer: NodeJS.Timeout | undefined;
  private sending = false;
  private stopped = false;

  constructor(
    private readonly producer: Producer,
    private readonly linkId: string,
    private readonly logger: Logger,
    private readonly outcome: { sent(): void; notSent(error: unknown): void },
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      // Unanswered for a whole interval (its send retries for longer): reported now, one in flight.
      if (this.sending) {
        this.outcome.notSent(new Error(`the source has not taken a heartbeat for ${intervalMs} ms`));
        return;
      }
      void this.emit();
    }, intervalMs);
  }

  /** A heartbeat in flight is let go: its outcome, once the link stops, is nobody's news. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async emit(): Promise<void> {
    this.sending = true;
    try {
      await this.producer.send({
        topic: HEARTBEATS_TOPIC,
        acks: -1,
        messages: [heartbeatMessage(this.linkId, new Date())],
      });
      if (!this.stopped) this.outcome.sent();
    } catch (error) {
      this.logger.debug({ error: (error as Error).message }, "heartbeat not sent");
      if (!this.stopped) this.outcome.notSent(error);
    } finally {
      this.sending = false;
    }
  }
}
