import { isUuid, SITE_ID_PATTERN } from "@tandem/events";
import { z } from "zod";
import ms from "ms";
import { tuningSchema } from "./tuning";
import { DELIVERY_MODES, SASL_MECHANISMS, STREAMS } from "./types";
import type {
  AllowDeny,
  KafkaConfig,
  LinkConfig,
  LinkFilters,
  LinkSchedule,
  MergePolicy,
  ObjectStoreConfig,
  PostgresConfig,
  RegistryConfig,
  SiteConfig,
  Stream,
  TimeWindow,
  Topology,
  BandwidthCap,
} from "./types";
import { daysLabel, parseDays, spansOverlap, windowSpans } from "./week";

/** Site ids become topic prefixes (`<site>.calls.completed`), so `tandem` would collide with internal topics. */
const RESERVED_SITE_IDS: readonly string[] = ["tandem"];
const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
const WINDOW_END = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Values taken from the environment are strings; accept them where YAML would give a number or boolean. */
const fromEnvString = (convert: (text: string) => unknown) => (value: unknown) =>
  typeof value === "string" ? convert(value) : value;
const envNumber = fromEnvString((text) => (/^\d+$/.test(text) ? Number(text) : text));
const envBoolean = fromEnvString((text) => (text === "true" ? true : text === "false" ? false : text));
/** `continuous` stands for `{ kind: continuous }`. */
const kindShorthand = fromEnvString((text) => ({ kind: text }));

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const nonEmpty = z.string().min(1, { error: "must not be empty" });
const bool = z.preprocess(envBoolean, z.boolean());
const port = z.preprocess(
  envNumber,
  z
    .number()
    .int()
    .min(1, { error: "expected a port 1-65535" })
    .max(65535, { error: "expected a port 1-65535" }),
);
const httpUrl = z.url({ protocol: /^https?$/, error: "expected an http(s) URL" });
const siteId = z
  .string()
  .regex(SITE_ID_PATTERN, {
    error: "expected a site id: a lower-case letter then 1-30 lower-case letters, digits or '-'",
  })
  .refine((id) => !RESERVED_SITE_IDS.includes(id), { error: "is reserved for internal topics" });
/** Events carry canonical (lower-case) UUIDs; any case is accepted here and compared lower-cased. */
const uuid = z
  .string()
  .refine((id) => isUuid(id.toLowerCase()), { error: "expected a UUID" })
  .transform((id) => id.toLowerCase());
const hhmm = z.string().regex(HH_MM, { error: "expected HH:MM" });
/** A window may end at 24:00, so that a whole day can be written. */
const windowEnd = z.string().regex(WINDOW_END, { error: "expected HH:MM (24:00 for the end of the day)" });

const broker = z.string().refine(
  (address) => {
    const port = HOST_PORT.exec(address)?.[2];
    return port !== undefined && Number(port) >= 1 && Number(port) <= 65535;
  },
  { error: "expected host:port" },
);

const kafka: z.ZodType<KafkaConfig> = z.strictObject({
  brokers: z.array(broker).min(1, { error: "list at least one broker" }),
  ssl: z
    .preprocess(
      envBoolean,
      z.union([
        z.boolean(),
        z.strictObject({
          ca: nonEmpty.optional(),
          cert: nonEmpty.optional(),
          key: nonEmpty.optional(),
          rejectUnauthorized: bool.optional(),
        }),
      ]),
    )
    .optional(),
  sasl: z
    .strictObject({
      mechanism: z.enum(SASL_MECHANISMS),
      username: nonEmpty,
      password: nonEmpty,
    })
    .optional(),
});

const registry: z.ZodType<RegistryConfig> = z
  .strictObject({ url: httpUrl, username: nonEmpty.optional(), password: nonEmpty.optional() })
  .superRefine((r, ctx) => {
    if ((r.username === undefined) !== (r.password === undefined)) {
      const missing = r.username === undefined ? "username" : "password";
      ctx.addIssue({ code: "custom", path: [missing], message: "required when the other credential is set" });
    }
  });

const postgres: z.ZodType<PostgresConfig> = z
  .strictObject({
    connectionString: z.url({ protocol: /^postgres(ql)?$/, error: "expected a postgres:// URL" }).optional(),
    host: nonEmpty.optional(),
    port: port.optional(),
    database: nonEmpty.optional(),
    user: nonEmpty.optional(),
    password: z.string().optional(),
  })
  .transform((pg, ctx): PostgresConfig => {
    const { connectionString, host, port: pgPort, database, user, password } = pg;
    if (connectionString !== undefined) {
      const extra = [host, pgPort, database, user, password].some((v) => v !== undefined);
      if (extra) {
        ctx.addIssue({
          code: "custom",
          path: [],
          message: "give either connectionString or host/port/database/user/password, not both",
        });
      }
      return { connectionString };
    }
    if (host === undefined || database === undefined || user === undefined) {
      for (const [field, value] of Object.entries({ host, database, user })) {
        if (value === undefined) {
          ctx.addIssue({
            code: "custom",
            path: [field],
            message: "required unless connectionString is given",
          });
        }
      }
      return z.NEVER;
    }
    return { host, port: pgPort ?? 5432, database, user, ...(password === undefined ? {} : { password }) };
  });

const objectStore: z.ZodType<ObjectStoreConfig> = z.discriminatedUnion("kind", [
  z
    .strictObject({
      kind: z.literal("s3"),
      endpoint: httpUrl.optional(),
      region: nonEmpty,
      bucket: z.string().regex(S3_BUCKET, { error: "expected an S3 bucket name" }),
      accessKeyId: nonEmpty.optional(),
      secretAccessKey: nonEmpty.optional(),
      forcePathStyle: bool.optional(),
    })
    .superRefine((s3, ctx) => {
      if ((s3.accessKeyId === undefined) !== (s3.secretAccessKey === undefined)) {
        const missing = s3.accessKeyId === undefined ? "accessKeyId" : "secretAccessKey";
        ctx.addIssue({
          code: "custom",
          path: [missing],
          message: "required when the other credential is set",
        });
      }
    }),
  z.strictObject({ kind: z.literal("directory"), path: nonEmpty }),
]);

const mergePolicy: z.ZodType<MergePolicy> = z.preprocess(
  kindShorthand,
  z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("lww") }),
    z.strictObject({
      kind: z.literal("priority"),
      siteOrder: z.array(z.string()).min(1, { error: "must not be empty" }),
    }),
    z.strictObject({ kind: z.literal("manual") }),
  ]),
);

const RETENTION_FORM = "expected forever or a duration of at least an hour, such as 30d";
/** `forever` (the default) or a duration: how long the site's event topics keep their records. */
const retention = z.string({ error: RETENTION_FORM }).transform((text, ctx) => {
  if (text === "forever") return -1;
  const value = ms(text as ms.StringValue);
  if (typeof value !== "number" || !Number.isFinite(value) || value < 3_600_000) {
    ctx.addIssue({ code: "custom", message: RETENTION_FORM });
    return z.NEVER;
  }
  return value;
});

const siteAddresses = z.strictObject({
  kafka: z
    .strictObject({ brokers: z.array(broker).min(1, { error: "list at least one broker" }) })
    .optional(),
  registry: z.strictObject({ url: httpUrl }).optional(),
  objectStore: z.strictObject({ endpoint: httpUrl }).optional(),
});

const site: z.ZodType<SiteConfig> = z
  .strictObject({
    id: siteId,
    kafka,
    registry,
    postgres,
    objectStore,
    mergePolicy: mergePolicy.default({ kind: "lww" }),
    retention: retention.default(-1),
    reachedFrom: z.record(z.string(), siteAddresses).optional(),
  })
  .transform(({ retention: retentionMs, reachedFrom, ...rest }) => ({
    ...rest,
    retentionMs,
    ...(reachedFrom === undefined ? {} : { reachedFrom }),
  }));

const allowDeny: z.ZodType<AllowDeny> = z
  .strictObject({ allow: z.array(uuid).optional(), deny: z.array(uuid).default([]) })
  .superRefine((list, ctx) => {
    if (list.allow?.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["allow"],
        message: "an empty allow list admits nothing; omit allow to admit all",
      });
    }
    list.deny.forEach((id, index) => {
      if (list.allow?.includes(id)) {
        ctx.addIssue({ code: "custom", path: ["deny", index], message: `${id} is also in allow` });
      }
    });
  });

const noFilter = (): AllowDeny => ({ deny: [] });
const filters: z.ZodType<LinkFilters> = z.strictObject({
  tenants: allowDeny.default(noFilter),
  groups: allowDeny.default(noFilter),
});

const timeZone = z
  .string()
  .refine(isTimeZone, { error: "expected an IANA time zone such as Europe/London" })
  .transform((tz) => new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone);

const days = z.union([z.string(), z.array(z.string())]).transform((value, ctx) => {
  const parsed = parseDays(value);
  if (typeof parsed !== "string") return parsed;
  ctx.addIssue({ code: "custom", message: parsed });
  return z.NEVER;
});

const windowFields = { start: hhmm, end: windowEnd, days: days.optional() };
function refuseEmpty(w: TimeWindow, ctx: z.RefinementCtx): void {
  if (w.start === w.end) {
    ctx.addIssue({ code: "custom", path: ["end"], message: "equals start; a window needs a length" });
  }
}
const timeWindow = z.strictObject(windowFields).superRefine(refuseEmpty);

/** Overlapping windows are a typo more often than an intent; their union (or a rate) would hide it. */
function refuseOverlaps(list: readonly TimeWindow[], ctx: z.RefinementCtx): void {
  list.forEach((window, index) => {
    const earlier = list.findIndex(
      (other, i) =>
        i < index && windowSpans(other).some((a) => windowSpans(window).some((b) => spansOverlap(a, b))),
    );
    if (earlier >= 0) {
      const other = list[earlier]!;
      ctx.addIssue({
        code: "custom",
        path: [index],
        message: `overlaps windows[${earlier}] (${other.start}-${other.end} ${daysLabel(other.days)})`,
      });
    }
  });
}

const windows = z.array(timeWindow).min(1, { error: "list at least one window" }).superRefine(refuseOverlaps);

const RATE_FORM = "expected a rate of at least 8kbit, such as 10mbit, 1gbit or 2MB/s";
const RATE = /^(\d+(?:\.\d+)?)\s*(bit|kbit|mbit|gbit|B\/s|KB\/s|MB\/s|GB\/s)$/i;
const RATE_UNITS: Record<string, number> = {
  bit: 1 / 8,
  kbit: 1e3 / 8,
  mbit: 1e6 / 8,
  gbit: 1e9 / 8,
  "b/s": 1,
  "kb/s": 1e3,
  "mb/s": 1e6,
  "gb/s": 1e9,
};
/** Line rates as operators write them (bits, SI prefixes), as bytes per second. */
const rate = z.string({ error: RATE_FORM }).transform((text, ctx) => {
  const match = RATE.exec(text.trim());
  const bytesPerSecond = match === null ? NaN : Number(match[1]) * RATE_UNITS[match[2]!.toLowerCase()]!;
  if (!(bytesPerSecond >= 1000)) {
    ctx.addIssue({ code: "custom", message: RATE_FORM });
    return z.NEVER;
  }
  return Math.round(bytesPerSecond);
});

const bandwidth: z.ZodType<BandwidthCap> = z.preprocess(
  (value) => (typeof value === "string" ? { rate: value } : value),
  z
    .strictObject({
      timeZone: timeZone.default("UTC"),
      rate: rate.optional(),
      windows: z
        .array(z.strictObject({ ...windowFields, rate }).superRefine(refuseEmpty))
        .default(() => [])
        .superRefine(refuseOverlaps),
    })
    .superRefine((cap, ctx) => {
      if (cap.rate === undefined && cap.windows.length === 0) {
        ctx.addIssue({ code: "custom", message: "give a rate, windows with a rate, or both" });
      }
    })
    .transform(({ rate: outside, windows: list, timeZone: zone }) => ({
      timeZone: zone,
      ...(outside === undefined ? {} : { bytesPerSecond: outside }),
      windows: list.map(({ rate: inside, ...window }) => ({ ...window, bytesPerSecond: inside })),
    })),
);

const PERIOD_FORM =
  "expected a duration from 1m to 24h, such as 1h (for daily or weekly ticks use at and days)";
const period = z.string({ error: PERIOD_FORM }).transform((text, ctx) => {
  const value = ms(text as ms.StringValue);
  if (typeof value !== "number" || !Number.isFinite(value) || value < 60_000 || value > 86_400_000) {
    ctx.addIssue({ code: "custom", message: PERIOD_FORM });
    return z.NEVER;
  }
  return value;
});

const periodic = z
  .strictObject({
    kind: z.literal("periodic"),
    timeZone: timeZone.default("UTC"),
    every: period.optional(),
    at: z
      .union([hhmm, z.array(hhmm).min(1, { error: "list at least one time" })])
      .transform((value) => [...new Set(typeof value === "string" ? [value] : value)].sort())
      .optional(),
    days: days.optional(),
  })
  .superRefine((p, ctx) => {
    if ((p.every === undefined) === (p.at === undefined)) {
      ctx.addIssue({ code: "custom", message: "give either every (a period) or at (times of day)" });
    }
    if (p.days !== undefined && p.every !== undefined) {
      ctx.addIssue({ code: "custom", path: ["days"], message: "goes with at, not with every" });
    }
  })
  .transform(({ every, ...rest }) => ({ ...rest, ...(every === undefined ? {} : { everyMs: every }) }));

const schedule: z.ZodType<LinkSchedule> = z.preprocess(
  kindShorthand,
  z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("continuous") }),
    z.strictObject({ kind: z.literal("windows"), timeZone, windows }),
    periodic,
    z.strictObject({ kind: z.literal("manual") }),
  ]),
);

const streams = z
  .array(z.enum(STREAMS))
  .min(1, { error: "list at least one stream" })
  .superRefine((list, ctx) => {
    list.forEach((stream, index) => {
      if (list.indexOf(stream) !== index) {
        ctx.addIssue({ code: "custom", path: [index], message: `${stream} is listed twice` });
      }
    });
  });

const link: z.ZodType<LinkConfig> = z
  .strictObject({
    from: nonEmpty,
    to: nonEmpty,
    streams: streams.default(() => [...STREAMS]),
    filters: filters.default(() => ({ tenants: noFilter(), groups: noFilter() })),
    schedule: schedule.default({ kind: "continuous" }),
    schedules: z.partialRecord(z.enum(STREAMS), schedule).default(() => ({})),
    bandwidth: bandwidth.optional(),
    delivery: z.enum(DELIVERY_MODES).default("at-least-once"),
  })
  .superRefine((l, ctx) => {
    for (const stream of Object.keys(l.schedules) as Stream[]) {
      if (!l.streams.includes(stream)) {
        ctx.addIssue({
          code: "custom",
          path: ["schedules", stream],
          message: `${stream} is not one of the link's streams (${l.streams.join(", ")})`,
        });
      }
    }
  });

export const topologySchema: z.ZodType<Topology> = z.strictObject({
  sites: z.array(site).min(1, { error: "declare at least one site" }),
  links: z.array(link).default(() => []),
  tuning: tuningSchema,
});
