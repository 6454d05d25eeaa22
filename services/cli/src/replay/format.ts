/** Human-readable blocks for `tandem inspect`: a few lines per record. */
import { DLQ_HEADERS } from "@tandem/kafka";
import type { CallCompleted, UserChanged } from "@tandem/events";
import type { RecordView } from "./records";

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s`;
}

function party(p: CallCompleted["caller"]): string {
  return p.name === null ? p.number : `${p.number} (${p.name})`;
}

export function callSummary(call: CallCompleted): string {
  const audio =
    call.audio === null
      ? "audio none"
      : `audio ${call.audio.sizeBytes} B ${call.audio.codec} sha256 ${call.audio.sha256.slice(0, 12)}…`;
  return [
    `call ${call.callId}`,
    `tenant ${call.tenantId}`,
    `${call.direction} ${party(call.caller)} -> ${party(call.callee)}`,
    `${new Date(call.startedAtMs).toISOString()} ${seconds(call.durationMs)}`,
    audio,
  ].join("  ");
}

export function userSummary(user: UserChanged): string {
  const changes =
    user.operation === "DELETE"
      ? "delete"
      : `upsert ${user.changedFields.map((f) => `${f}=${JSON.stringify(user.fields[f])}`).join(" ")}`;
  return [
    `user ${user.userId}`,
    `tenant ${user.tenantId}`,
    changes,
    `hlc ${user.hlc.wallTimeMs}.${user.hlc.logical}@${user.originSite}`,
  ].join("  ");
}

const DLQ_NAMES = new Set<string>(Object.values(DLQ_HEADERS));

export function formatRecord(view: RecordView): string[] {
  const lines = [
    `${view.topic} partition ${view.partition} offset ${view.offset}  ${view.timestamp}  key ${view.key ?? "(none)"}`,
  ];
  const plain = Object.entries(view.headers).filter(([name]) => !DLQ_NAMES.has(name));
  if (plain.length > 0)
    lines.push(`  headers  ${plain.map(([name, value]) => `${name}=${value}`).join(" ")}`);
  const dlq = (name: string) => view.headers[name];
  if (dlq(DLQ_HEADERS.reason) !== undefined) {
    const source = dlq(DLQ_HEADERS.sourceTopic);
    const from =
      source === undefined
        ? ""
        : `  from ${source} partition ${dlq(DLQ_HEADERS.sourcePartition)} offset ${dlq(DLQ_HEADERS.sourceOffset)}`;
    const call = dlq(DLQ_HEADERS.callId) === undefined ? "" : `  call ${dlq(DLQ_HEADERS.callId)}`;
    lines.push(`  dlq      ${dlq(DLQ_HEADERS.component)} at ${dlq(DLQ_HEADERS.site)}${from}${call}`);
    lines.push(`  reason   ${dlq(DLQ_HEADERS.reason)}`);
  }
  if (view.error !== undefined) lines.push(`  ERROR    ${view.error}`);
  if (view.event !== undefined) {
    lines.push(
      view.kind === "CallCompleted"
        ? `  CallCompleted  ${callSummary(view.event as CallCompleted)}`
        : `  UserChanged  ${userSummary(view.event as UserChanged)}`,
    );
  }
  if (view.value !== undefined) {
    const more = view.value.bytes > view.value.hex.length / 2 ? "…" : "";
    lines.push(`  value    ${view.value.bytes} bytes  ${view.value.hex}${more}`);
  }
  return lines;
}
