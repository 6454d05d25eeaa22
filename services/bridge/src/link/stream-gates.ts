import { streamSchedule, type LinkConfig, type Stream } from "@tandem/config";
import type { Logger } from "@tandem/runtime";
import { streamOf } from "@tandem/replication";
import { scheduleLabel } from "@tandem/replication";
import { ScheduleGate } from "./schedule-gate";

export interface StreamScheduleStatus {
  stream: Stream;
  schedule: string;
  open: boolean;
  catchUpRequested: boolean;
  /** When the stream opens or closes next by its schedule (ISO); absent when never, or until caught up. */
  nextChange: string | undefined;
}

/**
 * A gate per stream of a link, each with the stream's own schedule ("calls now, users at night"): the
 * link's consumer pauses the topics of a closed stream and keeps reading the others.
 */
export class StreamGates {
  private readonly gates: ReadonlyMap<Stream, ScheduleGate>;

  constructor(options: {
    link: LinkConfig;
    checkIntervalMs: number;
    now: () => Date;
    logger: Logger;
    /** Whether the link's group has read everything the source holds of the stream. */
    caughtUp: (stream: Stream) => Promise<boolean>;
    /** Called when a stream opens or closes. */
    changed: () => void;
  }) {
    const { link, logger } = options;
    this.gates = new Map(
      link.streams.map((stream) => [
        stream,
        new ScheduleGate({
          schedule: streamSchedule(link, stream),
          checkIntervalMs: options.checkIntervalMs,
          now: options.now,
          logger: logger.child({ stream }),
          caughtUp: () => options.caughtUp(stream),
          changed: () => options.changed(),
        }),
      ]),
    );
  }

  async start(): Promise<void> {
    for (const gate of this.gates.values()) await gate.start();
  }

  stop(): void {
    for (const gate of this.gates.values()) gate.stop();
  }

  /** An operator's catch-up: every stream runs, whatever its schedule, until it has caught up. */
  requestCatchUp(): void {
    for (const gate of this.gates.values()) gate.requestCatchUp();
  }

  get allClosed(): boolean {
    return [...this.gates.values()].every((gate) => gate.isClosed);
  }

  get catchUpRequested(): boolean {
    return [...this.gates.values()].some((gate) => gate.catchUpRequested);
  }

  /** A stream's topics follow its gate; heartbeats flow while any stream is open. */
  isTopicClosed(topic: string): boolean {
    const stream = streamOf(topic);
    if (stream === undefined) return this.allClosed;
    return this.gates.get(stream)?.isClosed ?? true;
  }

  status(): StreamScheduleStatus[] {
    return [...this.gates].map(([stream, gate]) => ({
      stream,
      schedule: scheduleLabel(gate.schedule),
      open: !gate.isClosed,
      catchUpRequested: gate.catchUpRequested,
      nextChange: gate.nextChange?.toISOString(),
    }));
  }
}
