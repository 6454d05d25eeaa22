import type { LinkConfig } from "@tandem/config";
import type { Logger } from "@tandem/runtime";
import { scheduleState, type ManualRequest } from "../core/schedule";

/** Opens and closes a link by its schedule, or for an operator's catch-up until the link has caught up. */
export class ScheduleGate {
  private closed = false;
  private manualRequest: ManualRequest | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly options: {
      schedule: LinkConfig["schedule"];
      checkIntervalMs: number;
      now: () => Date;
      logger: Logger;
      caughtUp: () => Promise<boolean>;
      /** Called when the gate opens or closes. */
      changed: (closed: boolean) => void;
    },
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  get catchUpRequested(): boolean {
    return this.manualRequest !== undefined;
  }

  async start(): Promise<void> {
    this.timer = setInterval(() => void this.check(), this.options.checkIntervalMs);
    await this.check();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** The link runs whatever its schedule until it has caught up. */
  requestCatchUp(): void {
    this.manualRequest = {};
    this.options.logger.info("catch-up requested");
    void this.check();
  }

  private async check(): Promise<void> {
    if (this.stopped) return;
    if (this.manualRequest !== undefined && (await this.options.caughtUp())) {
      this.options.logger.info("catch-up done");
      this.manualRequest = undefined;
    }
    const open = scheduleState(this.options.schedule, this.options.now(), this.manualRequest) === "open";
    if (open === !this.closed) return;
    this.closed = !open;
    this.options.changed(this.closed);
  }
}
