/**
 * `tandem replay --rebuild`: disaster recovery. A fresh database is migrated and filled with the events
 * through the materializer's rebuild entry point, so it holds exactly the rows the materializer would
 * write; audio can be copied into a directory store at once.
 */
import type { MergePolicy, PostgresConfig } from "@tandem/config";
import type { TandemEvent } from "@tandem/events";
import type { ObjectStore } from "@tandem/object-store";
import { SiteRebuild, type RebuildAudioOutcome, type SourcedEvent } from "@tandem/materializer";
import type { RecordView } from "./records";

/** The id the target store goes by among the sites' stores; not a valid site id, so never a real site. */
export const TARGET_STORE = "--store-dir";

export class RebuildTarget {
  private constructor(private readonly rebuild: SiteRebuild) {}

  /** Connects and runs the materializer's migrations; returns the names of those it ran. */
  static async open(
    postgres: PostgresConfig,
    policy: MergePolicy,
  ): Promise<{ target: RebuildTarget; migrations: string[] }> {
    const { rebuild, migrations } = await SiteRebuild.open(postgres, policy);
    return { target: new RebuildTarget(rebuild), migrations };
  }

  /**
   * Applies decoded events as a materializer batch. Returns the calls inserted and the events set aside,
   * as the materializer dead-letters them: no audio key can be derived, or PostgreSQL refuses them.
   */
  async apply(views: readonly RecordView[]): Promise<{ callsInserted: number; rejected: RecordView[] }> {
    const events: Array<SourcedEvent<RecordView>> = views.flatMap((view) =>
      view.kind === undefined || view.event === undefined
        ? []
        : [{ record: view, event: { kind: view.kind, event: view.event } as TandemEvent }],
    );
    const { callsInserted, refused } = await this.rebuild.apply(events);
    return { callsInserted, rejected: refused.map(({ record, reason }) => ({ ...record, error: reason })) };
  }

  counts(): Promise<{ calls: number; users: number; audioPending: number }> {
    return this.rebuild.counts();
  }

  /** Copies the audio of every pending call into the target store, `TARGET_STORE` in `stores`. */
  copyAudio(
    stores: ReadonlyMap<string, ObjectStore>,
    options: { concurrency: number; signal?: AbortSignal; onCopied?: () => void },
  ): Promise<RebuildAudioOutcome> {
    return this.rebuild.copyPendingAudio(TARGET_STORE, stores, options);
  }

  close(): Promise<void> {
    return this.rebuild.close();
  }
}
