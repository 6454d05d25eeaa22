import { randomBytes } from "node:crypto";
import path from "node:path";
import { createRequire } from "node:module";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import fastifyCookie from "@fastify/cookie";
import fastifyCsrf from "@fastify/csrf-protection";
import fastifySession from "@fastify/session";
import fastifyStatic from "@fastify/static";
import { registryAuthOf, type Topology } from "@tandem/config";
import { EventCodec } from "@tandem/events";
import { createKafka } from "@tandem/kafka";
import { createPool, listConflicts, openConflictsDigest } from "@tandem/materializer";
import {
  publishResolution,
  readDeadLetters,
  requestCatchUp,
  verifySites,
  type DeadLetterView,
  type ResolutionChoice,
} from "@tandem/operations";
import pino from "pino";
import { roleFor, secretsOf, withoutSecrets, type Credentials, type Role } from "./core/access";
import { conflictView, parseResolution } from "./core/conflicts";
import { matchesDlqFilter, reasonCounts } from "./core/dlq-filter";
import type { Watcher } from "./watcher";

declare module "fastify" {
  interface Session {
    role?: Role;
  }
}

export interface ServerOptions {
  topology: Topology;
  credentials: Credentials;
  watcher: Watcher;
  /** Per target site, the operations endpoint of the bridge that pulls the links into it. */
  bridgeUrls: ReadonlyMap<string, string>;
  /** The newest dead letters read per site; the page filters and shows at most `dlqShown` of them. */
  dlqRead: number;
  dlqShown: number;
}

const PUBLIC_DIR = path.resolve(import.meta.dirname, "../public");
const UPLOT_DIR = path.dirname(createRequire(import.meta.url).resolve("uplot/dist/uPlot.iife.min.js"));
const quiet = pino({ level: "silent" });

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { topology, watcher } = options;
  const secrets = secretsOf(topology);
  const siteIds = topology.sites.map((s) => s.id);
  const siteOf = (id: string) => topology.sites.find((s) => s.id === id);
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, forceCloseConnections: true });

  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    // Sessions live as long as the process: a restart asks everyone to log in again.
    secret: randomBytes(32).toString("hex"),
    cookieName: "tandem-console",
    cookie: { httpOnly: true, sameSite: "strict", secure: "auto", maxAge: 12 * 3600 * 1000 },
    saveUninitialized: false,
  });
  await app.register(fastifyCsrf, {
    sessionPlugin: "@fastify/session",
    getToken: (request) => request.headers["x-csrf-token"] as string | undefined,
  });
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: "/" });
  await app.register(fastifyStatic, { root: UPLOT_DIR, prefix: "/vendor/uplot/", decorateReply: false });
  app.addHook("onSend", async (_request, reply, payload) => {
    reply.header("x-content-type-options", "nosniff");
    reply.header("x-frame-options", "DENY");
    reply.header("content-security-policy", "default-src 'self'; style-src 'self' 'unsafe-inline'");
    return payload;
  });

  const failure = (reply: FastifyReply, status: number, error: unknown) =>
    reply
      .code(status)
      .send({ error: withoutSecrets(error instanceof Error ? error.message : String(error), secrets) });
  const signedIn = async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.session.role === undefined) return reply.code(401).send({ error: "log in first" });
  };
  const admin = async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.session.role !== "admin") return reply.code(403).send({ error: "only an admin may do this" });
  };
  const change = { onRequest: [app.csrfProtection], preHandler: [signedIn] };
  const adminChange = { onRequest: [app.csrfProtection], preHandler: [signedIn, admin] };
  const read = { preHandler: [signedIn] };

  app.get("/", async (_request, reply) => reply.redirect("/overview.html"));

  app.get("/api/csrf", async (_request, reply) => ({ csrfToken: reply.generateCsrf() }));
  app.post("/api/login", { onRequest: [app.csrfProtection] }, async (request, reply) => {
    const body = (request.body ?? {}) as { user?: unknown; password?: unknown };
    const role =
      typeof body.user === "string" && typeof body.password === "string"
        ? roleFor(options.credentials, body.user, body.password)
        : undefined;
    if (role === undefined) return reply.code(401).send({ error: "wrong user or password" });
    await request.session.regenerate();
    request.session.role = role;
    return { role };
  });
  app.post("/api/logout", change, async (request) => {
    await request.session.destroy();
    return { ok: true };
  });
  app.get("/api/session", read, async (request, reply) => ({
    role: request.session.role,
    csrfToken: reply.generateCsrf(),
  }));

  app.get("/api/overview", read, async (_request, reply) => {
    const overview = watcher.overview();
    return overview ?? reply.code(503).send({ error: "first sample not taken yet" });
  });
  app.get("/api/events", read, async (request, reply) => {
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    const send = (overview: unknown) => out.write(`event: overview\ndata: ${JSON.stringify(overview)}\n\n`);
    const current = watcher.overview();
    if (current !== undefined) send(current);
    const unsubscribe = watcher.subscribe(send);
    request.raw.on("close", unsubscribe);
  });
  app.get("/api/lag", read, async () => ({
    links: Object.fromEntries(watcher.lag.links().map((link) => [link, watcher.lag.series(link)])),
  }));

  app.get("/api/conflicts", read, async () => {
    const bySite = await Promise.all(
      topology.sites.map(async (site) => {
        const pool = createPool(site.postgres, 1, 3000);
        try {
          // Read before the queue: the page reads it again when a sample's digest differs from this one.
          const digest = await openConflictsDigest(pool);
          return {
            site: site.id,
            digest,
            conflicts: (await listConflicts(pool)).map((row) => conflictView(site.id, row)),
          };
        } catch (error) {
          return { site: site.id, conflicts: [], error: withoutSecrets((error as Error).message, secrets) };
        } finally {
          await pool.end().catch(() => {});
        }
      }),
    );
    return { sites: bySite };
  });
  app.post("/api/conflicts/resolve", adminChange, async (request, reply) => {
    const parsed = parseResolution(request.body, siteIds);
    if (typeof parsed === "string") return reply.code(400).send({ error: parsed });
    try {
      const event = await publishResolution(siteOf(parsed.site)!, parsed.userId, {
        field: parsed.field,
        value: parsed.value,
      } as ResolutionChoice);
      return { eventId: event.eventId };
    } catch (error) {
      return failure(reply, 502, error);
    }
  });

  app.get("/api/dlq", read, async (request, reply) => {
    const query = request.query as { site?: string; reason?: string; since?: string; until?: string };
    const sites = query.site ? [query.site] : siteIds;
    if (sites.some((s) => !siteIds.includes(s))) return reply.code(400).send({ error: "unknown site" });
    const records: DeadLetterView[] = [];
    const errors: Array<{ site: string; error: string }> = [];
    await Promise.all(
      sites.map(async (id) => {
        const site = siteOf(id)!;
        try {
          const codec = new EventCodec({ host: site.registry.url, auth: registryAuthOf(site.registry) });
          const kafka = createKafka(site.kafka, "tandem-console", quiet);
          records.push(...(await readDeadLetters(kafka, codec, id, options.dlqRead)));
        } catch (error) {
          errors.push({ site: id, error: withoutSecrets((error as Error).message, secrets) });
        }
      }),
    );
    records.sort((a, b) => b.at.localeCompare(a.at));
    const matching = records.filter((r) => matchesDlqFilter(r, query));
    return {
      read: records.length,
      matching: matching.length,
      reasons: reasonCounts(records),
      records: matching.slice(0, options.dlqShown),
      errors,
    };
  });

  app.get("/api/links", read, async () => ({
    sites: siteIds,
    links: topology.links.map((link) => ({
      link: `${link.from}->${link.to}`,
      from: link.from,
      to: link.to,
      schedule: link.schedule.kind,
      catchUp: options.bridgeUrls.has(link.to),
    })),
  }));
  app.post("/api/audit/verify", change, async (request, reply) => {
    const body = (request.body ?? {}) as { sites?: unknown; tenant?: unknown };
    const sites = Array.isArray(body.sites)
      ? body.sites.filter((s): s is string => typeof s === "string")
      : [];
    if (sites.length < 2 || sites.some((s) => !siteIds.includes(s)))
      return reply.code(400).send({ error: "choose two or more sites of the topology" });
    const tenant =
      typeof body.tenant === "string" && body.tenant.trim() !== "" ? [body.tenant.trim()] : undefined;
    try {
      return await verifySites(topology, sites, { tenants: tenant });
    } catch (error) {
      return failure(reply, 502, error);
    }
  });
  app.post("/api/links/catch-up", adminChange, async (request, reply) => {
    const { link } = (request.body ?? {}) as { link?: unknown };
    const config = topology.links.find((l) => `${l.from}->${l.to}` === link);
    if (config === undefined) return reply.code(400).send({ error: "unknown link" });
    const bridgeUrl = options.bridgeUrls.get(config.to);
    if (bridgeUrl === undefined)
      return reply.code(400).send({ error: `no bridge endpoint given for ${config.to} (--bridge-url)` });
    try {
      const outcome = await requestCatchUp(bridgeUrl, config);
      if (outcome === "unknown-link")
        return reply.code(404).send({ error: `the bridge does not run ${link}` });
      return { started: true };
    } catch (error) {
      return failure(reply, 502, error);
    }
  });
  return app;
}
