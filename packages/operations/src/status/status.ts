import pino from "pino";
import { streamSchedule, type SiteConfig, type Topology } from "@tandem/config";
import { DLQ_TOPIC } from "@tandem/events";
import { createKafka, topicRetentionMs } from "@tandem/kafka";
import type { StreamScheduleStatus } from "@tandem/bridge";
import { audioBacklog, countOpenConflicts, createPool, type AudioBacklog } from "@tandem/materializer";
import { assessLink, type LinkHealth, type Thresholds } from "./assess";
import {
  STREAM_TOPICS,
  gapComponent,
  capLabel,
  nextChange,
  retentionRisk,
  scheduleLabel,
  scheduleState,
  type GapRecord,
} from "@tandem/replication";
import { describeGap, openGaps } from "./gaps";
import { latestHeartbeats } from "./heartbeats";
import { linkLagRecords } from "./link-lag";

export interface LinkReport {
  link: string;
  schedule: string;
  /** The link's bandwidth cap, when it has one. */
  cap: string | undefined;
  /** Each stream's schedule, whether it is open now, and when that changes. */
  streams: Omit<StreamScheduleStatus, "catchUpRequested">[];
  delivery: string;
  health: LinkHealth;
  why: string;
  lagRecords: number | undefined;
  lastHeartbeatAt: string | undefined;
  heartbeatAgeSeconds: number | undefined;
  /** Why the source's retention may delete records before the link reads them. */
  retentionRisks: string[];
}

export interface SiteReport {
  site: string;
  kafkaReachable: boolean;
  dlqRecords: number | undefined;
  openConflicts: number | undefined;
  /** Audio copies still to make at this site (an origin store unreachable keeps them waiting). */
  audio: AudioBacklog | undefined;
  /** Ranges retention deleted at this site before a bridge or the materializer read them, unacknowledged. */
  gaps: GapRecord[];
}

export interface StatusReport {
  at: string;
  sites: SiteReport[];
  links: LinkReport[];
  healthy: boolean;
}

const quiet = pino({ level: "silent" });

function kafkaOf(site: SiteConfig) {
  const kafka = createKafka(site.kafka, "tandem-status", quiet);
  return kafka;
}

async function dlqSize(site: SiteConfig): Promise<number | undefined> {
  const admin = kafkaOf(site).admin();
  try {
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(DLQ_TOPIC);
    return ends.reduce((sum, e) => sum + Number(e.high) - Number(e.low), 0);
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** What the site's database says; undefined where it cannot be read. */
async function databaseFigures(
  site: SiteConfig,
): Promise<{ openConflicts: number | undefined; audio: AudioBacklog | undefined }> {
  const pool = createPool(site.postgres, 1, 3000);
  try {
    return { openConflicts: await countOpenConflicts(pool), audio: await audioBacklog(pool) };
  } catch {
    return { openConflicts: undefined, audio: undefined };
  } finally {
    await pool.end().catch(() => {});
  }
}

/** Per site and per link, what the clusters and databases say now. */
export async function collectStatus(
  topology: Topology,
  thresholds: Thresholds,
  now = new Date(),
): Promise<StatusReport> {
  const sites = await Promise.all(
    topology.sites.map(async (site): Promise<SiteReport> => {
      const dlqRecords = await dlqSize(site);
      return {
        site: site.id,
        kafkaReachable: dlqRecords !== undefined,
        dlqRecords,
        ...(await databaseFigures(site)),
        gaps: dlqRecords === undefined ? [] : await openGaps(kafkaOf(site)).catch(() => []),
      };
    }),
  );
  const heartbeatsBySite = new Map(
    await Promise.all(
      topology.sites.map(
        async (site) => [site.id, await latestHeartbeats(kafkaOf(site)).catch(() => new Map())] as const,
      ),
    ),
  );
  const links = await Promise.all(
    topology.links.map(async (link): Promise<LinkReport> => {
      const id = `${link.from}->${link.to}`;
      const source = topology.sites.find((s) => s.id === link.from)!;
      const streams = link.streams.map((stream) => {
        const schedule = streamSchedule(link, stream);
        return {
          stream,
          schedule: scheduleLabel(schedule),
          open: scheduleState(schedule, now) === "open",
          nextChange: nextChange(schedule, now)?.toISOString(),
        };
      });
      // A closed stream's backlog is what its schedule means; the lag that matters is the open streams'.
      const open = streams.filter((s) => s.open).map((s) => s.stream);
      const admin = kafkaOf(source).admin({ retry: { retries: 1 } });
      let lagRecords: number | undefined;
      const retentionRisks: string[] = [];
      try {
        await admin.connect();
        // Apart, so that a lag that cannot be read does not hide a retention risk, nor the reverse.
        lagRecords = await linkLagRecords(admin, link, open.length > 0 ? open : link.streams).catch(
          () => undefined,
        );
        for (const stream of link.streams) {
          const topic = STREAM_TOPICS[stream];
          const retentionMs = await topicRetentionMs(admin, topic).catch(() => undefined);
          const risk =
            retentionMs === undefined ? undefined : retentionRisk(streamSchedule(link, stream), retentionMs);
          if (risk !== undefined) retentionRisks.push(`${topic} at ${link.from}: ${risk}`);
        }
      } catch {
        lagRecords = undefined;
      } finally {
        await admin.disconnect().catch(() => {});
      }
      const heartbeat = heartbeatsBySite.get(link.to)?.get(id);
      const heartbeatAgeSeconds = heartbeat
        ? Math.max(0, (now.getTime() - heartbeat.emittedAtMs) / 1000)
        : undefined;
      const scheduleOpen = open.length > 0;
      const recordsLost = (sites.find((s) => s.site === link.from)?.gaps ?? [])
        .filter((gap) => gap.component === gapComponent.bridge(link))
        .reduce((sum, gap) => sum + gap.count, 0);
      const { health, why } = assessLink(
        { scheduleOpen, lagRecords, heartbeatAgeSeconds, recordsLost },
        thresholds,
      );
      return {
        link: id,
        schedule:
          [...new Set(streams.map((s) => s.schedule))].length === 1
            ? streams[0]!.schedule
            : streams.map((s) => `${s.stream}: ${s.schedule}`).join("; "),
        streams,
        cap: link.bandwidth === undefined ? undefined : capLabel(link.bandwidth),
        delivery: link.delivery,
        health,
        why,
        lagRecords,
        lastHeartbeatAt: heartbeat ? new Date(heartbeat.deliveredAtMs).toISOString() : undefined,
        heartbeatAgeSeconds,
        retentionRisks,
      };
    }),
  );
  return {
    at: now.toISOString(),
    sites,
    links,
    healthy:
      links.every((l) => l.health === "ok" || l.health === "paused") &&
      sites.every((s) => s.kafkaReachable && s.gaps.length === 0),
  };
}

function audioLabel(audio: AudioBacklog | undefined): string {
  if (audio === undefined) return "-";
  if (audio.oldestPendingSeconds === undefined) return String(audio.pending);
  return `${audio.pending} (oldest ${Math.round(audio.oldestPendingSeconds)}s)`;
}

export function formatStatus(report: StatusReport): string[] {
  const lines = ["SITE      KAFKA  DLQ     OPEN-CONFLICTS  RECORDS-LOST  AUDIO-PENDING"];
  for (const s of report.sites) {
    const lost = s.gaps.reduce((sum, gap) => sum + gap.count, 0);
    lines.push(
      `${s.site.padEnd(9)} ${(s.kafkaReachable ? "up" : "DOWN").padEnd(6)} ${String(s.dlqRecords ?? "-").padEnd(7)} ${String(s.openConflicts ?? "-").padEnd(15)} ${String(lost).padEnd(13)} ${audioLabel(s.audio)}`,
    );
  }
  lines.push("", "LINK         HEALTH     LAG(RECORDS)  LAST-HEARTBEAT        SCHEDULE");
  for (const l of report.links) {
    const beat = l.lastHeartbeatAt
      ? `${l.lastHeartbeatAt.slice(0, 19)}Z (${Math.round(l.heartbeatAgeSeconds!)}s)`
      : "never";
    lines.push(
      `${l.link.padEnd(12)} ${l.health.padEnd(10)} ${String(l.lagRecords ?? "-").padEnd(13)} ${beat.padEnd(21)} ${l.schedule}${l.cap === undefined ? "" : `  cap ${l.cap}`}${l.why ? `  (${l.why})` : ""}`,
    );
  }
  const scheduled = report.links.filter((l) => l.streams.some((s) => s.schedule !== "continuous"));
  if (scheduled.length > 0) {
    lines.push("", "STREAM SCHEDULES");
    for (const l of scheduled) {
      for (const s of l.streams) {
        const next =
          s.nextChange === undefined ? "" : `  ${s.open ? "closes" : "opens"} ${s.nextChange.slice(0, 16)}Z`;
        lines.push(
          `  ${l.link.padEnd(12)} ${s.stream.padEnd(6)} ${(s.open ? "open" : "closed").padEnd(7)} ${s.schedule}${next}`,
        );
      }
    }
  }
  const risks = report.links.flatMap((l) => l.retentionRisks.map((risk) => `${l.link}: ${risk}`));
  if (risks.length > 0) {
    lines.push(
      "",
      "RETENTION RISKS (set the source's retention to forever, or schedule the link more often)",
    );
    for (const risk of risks) lines.push(`  ${risk}`);
  }
  const gaps = report.sites.flatMap((s) => s.gaps);
  if (gaps.length > 0) {
    lines.push("", "DATA LOST (repair with tandem repair, then acknowledge with tandem gaps --ack)");
    for (const gap of gaps) lines.push(`  ${describeGap(gap)}`);
  }
  return lines;
}
