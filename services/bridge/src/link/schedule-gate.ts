import type { LinkSchedule } from "@tandem/config";
import type { Logger } from "@tandem/runtime";
import { nextChange, nextTick, scheduleState, type ManualRequest } from "@tandem/replication";

/**
 * Opens and closes a stream of a link by its schedule, or for a catch-up until the stream has caught up:
 * an operator's (`tandem replicate`) or a periodic schedule's tick.
 */
export class ScheduleGate {
  private closed = false;
  private manualRequest: ManualRequest | undefined;
  private nextTickAt: Date | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly options: {
      schedule: LinkSchedule;
      checkIntervalMs: number;
      now: () => Date;
      logger: Logger;
      caughtUp: () => Promise<boolean>;
      /** Called when the gate opens or closes. */
      changed: (closed: boolean) => void;
    },
  ) {}

  get schedule(): LinkSchedule {
    return this.options.schedule;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get catchUpRequested(): boolean {
    return this.manualRequest !== undefined;
  }

  /** When the gate opens or closes next by its schedule; undefined while a catch-up runs, or never. */
  get nextChange(): Date | undefined {
    return nextChange(this.options.schedule, this.options.now(), this.manualRequest);
  }

  async start(): Promise<void> {
    const { schedule } = this.options;
    // A tick missed while the bridge was down is not made up: the next one, or `tandem replicate`, catches up.
    if (schedule.kind === "periodic") this.nextTickAt = nextTick(schedule, this.options.now());
    this.timer = setInterval(() => void this.check(), this.options.checkIntervalMs);
    await this.check();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** The stream runs whatever its schedule until it has caught up. */
  requestCatchUp(why = "catch-up requested"): void {
    this.manualRequest = {};
    this.options.logger.info(why);
    void this.check();
  }

  private async check(): Promise<void> {
    if (this.stopped) return;
    const { schedule, now } = this.options;
    if (this.nextTickAt !== undefined && now() >= this.nextTickAt && schedule.kind === "periodic") {
      this.nextTickAt = nextTick(schedule, now());
      this.requestCatchUp("periodic tick: catching up");
      return;
    }
    if (this.manualRequest !== undefined && (await this.options.caughtUp())) {
      this.options.logger.info("catch-up done");
      this.manualRequest = undefined;
    }
    const open = scheduleState(schedule, now(), this.manualRequest) === "open";
    if (open === !this.closed) return;
    this.closed = !open;
    this.options.changed(this.closed);
  }
}
