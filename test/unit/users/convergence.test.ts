/**
 * Property: whatever the delivery order and however often an event is redelivered, every site ends with
 * the same state, the same visible user and the same conflicts, under every policy.
 */
import fc from "fast-check";
import type { Hlc, UserChanged, UserFieldName, UserFields, VersionVector } from "@tandem/events";
import { describe, expect, it } from "vitest";
import {
  applyUserChanged,
  conflictsOf,
  emptyUserState,
  eventsOfState,
  REGISTER_NAMES,
  redeliveries,
  serializeUserState,
  USER_FIELD_NAMES,
  visibleUser,
} from "../../../services/materializer/src/core/users";
import type { MergePolicy, RegisterName, UserState } from "../../../services/materializer/src/core/users";
import {
  compareHlc,
  compareVersions,
  eventVersion,
  mergeVersions,
} from "../../../services/materializer/src/core/users/versions";
import { seededRandom } from "../../support/random";
import { USER_ID } from "./fixtures";

const SITES = ["nyc", "lon", "syd"] as const;
const POLICIES: MergePolicy[] = [
  { kind: "lww" },
  { kind: "priority", siteOrder: ["syd", "nyc", "lon"] },
  { kind: "manual" },
];

/** Small value pools, so that concurrent writes sometimes agree and sometimes differ. */
const VALUES: { [K in UserFieldName]: readonly UserFields[K][] } = {
  name: ["Ada", "Grace", null],
  email: ["a@x.org", "b@x.org"],
  extensions: [["1001"], ["1001", "1002"], null],
  role: ["agent", "admin"],
  active: [true, false],
};

type Command =
  | {
      kind: "edit";
      site: number;
      /** How many of its own snapshots back the site bases the edit on: a stale form or a lagging replica. */
      staleness: number;
      delete: boolean;
      fields: UserFieldName[];
      pick: number;
      tenant: number;
      /** Physical time elapsed before the edit; zero makes equal clocks at different sites likely. */
      elapsedMs: number;
    }
  | { kind: "sync"; from: number; to: number; count: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("edit" as const),
      site: fc.nat({ max: SITES.length - 1 }),
      staleness: fc.nat({ max: 3 }),
      delete: fc.nat({ max: 3 }).map((roll) => roll === 0),
      fields: fc.subarray([...USER_FIELD_NAMES], { minLength: 1 }),
      pick: fc.nat(),
      tenant: fc.nat({ max: 1 }),
      elapsedMs: fc.nat({ max: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("sync" as const),
      from: fc.nat({ max: SITES.length - 1 }),
      to: fc.nat({ max: SITES.length - 1 }),
      count: fc.integer({ min: 1, max: 4 }),
    }),
  },
);

interface Site {
  clock: Hlc;
  known: Set<number>;
  /** The versions of what the site knew, after each change to its knowledge. */
  snapshots: VersionVector[];
}

/** Replays the commands as three sites with hybrid logical clocks that edit and exchange events. */
function simulate(commands: readonly Command[]): UserChanged[] {
  const events: UserChanged[] = [];
  const versions: VersionVector[] = [];
  const sites: Site[] = SITES.map(() => ({
    clock: { wallTimeMs: 0, logical: 0 },
    known: new Set(),
    snapshots: [{}],
  }));
  let now = 1_000;
  const learn = (site: Site, index: number) => {
    site.known.add(index);
    const event = events[index] as UserChanged;
    if (compareHlc(event.hlc, site.clock) > 0) site.clock = event.hlc;
    site.snapshots.push(mergeVersions([...site.known].map((known) => versions[known] as VersionVector)));
  };
  for (const command of commands) {
    if (command.kind === "sync") {
      const from = sites[command.from] as Site;
      const to = sites[command.to] as Site;
      const unseen = [...from.known].filter((index) => !to.known.has(index)).slice(0, command.count);
      for (const index of unseen) learn(to, index);
      continue;
    }
    const site = sites[command.site] as Site;
    now += command.elapsedMs;
    site.clock =
      now > site.clock.wallTimeMs
        ? { wallTimeMs: now, logical: 0 }
        : { wallTimeMs: site.clock.wallTimeMs, logical: site.clock.logical + 1 };
    const base = site.snapshots[Math.max(0, site.snapshots.length - 1 - command.staleness)] as VersionVector;
    const fields: UserFields = { name: null, email: null, extensions: null, role: null, active: null };
    command.fields.forEach((field, offset) => pickValue(fields, field, command.pick + offset));
    const event: UserChanged = {
      eventId: `evt-${String(events.length).padStart(3, "0")}`,
      userId: USER_ID,
      tenantId: `tenant-${command.tenant}`,
      groupId: `group-${command.tenant}`,
      operation: command.delete ? "DELETE" : "UPSERT",
      changedFields: command.delete ? [] : command.fields,
      fields: command.delete
        ? { name: null, email: null, extensions: null, role: null, active: null }
        : fields,
      hlc: site.clock,
      baseVersion: base,
      originSite: SITES[command.site] as string,
    };
    events.push(event);
    versions.push(eventVersion(event));
    learn(site, events.length - 1);
  }
  return events;
}

function pickValue<K extends UserFieldName>(fields: UserFields, field: K, pick: number): void {
  const pool = VALUES[field];
  fields[field] = pool[pick % pool.length] as UserFields[K];
}

/** The events in a random order, some of them delivered more than once. */
function delivery(events: readonly UserChanged[], next: () => number): UserChanged[] {
  const copies = [...events];
  const duplicates = Math.floor(next() * 4);
  for (let i = 0; i < duplicates; i++) copies.push(events[Math.floor(next() * events.length)] as UserChanged);
  for (let i = copies.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [copies[i], copies[j]] = [copies[j] as UserChanged, copies[i] as UserChanged];
  }
  return copies;
}

/** Writers of a register that no other writer of it dominates, computed from all events at once. */
function maximalWriters(events: readonly UserChanged[], register: RegisterName): string[] {
  const writers = events.filter(
    (event) =>
      register === "deleted" || (event.operation === "UPSERT" && event.changedFields.includes(register)),
  );
  return writers
    .filter(
      (event) =>
        !writers.some((other) => compareVersions(eventVersion(other), eventVersion(event)) === "after"),
    )
    .map((event) => event.eventId)
    .sort();
}

describe("user merge convergence", () => {
  it("gives the same state, visible user and conflicts for any delivery order with duplicates", () => {
    let runsWithConflicts = 0;
    const runs = 400;
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 1, maxLength: 16 }), fc.integer(), (commands, seed) => {
        const events = simulate(commands);
        fc.pre(events.length > 0);
        const next = seededRandom(seed);
        const states: UserState[] = [];
        for (let i = 0; i < 8; i++) {
          states.push(delivery(events, next).reduce(applyUserChanged, emptyUserState(USER_ID)));
        }
        const [reference, ...others] = states as [UserState, ...UserState[]];

        for (const register of REGISTER_NAMES) {
          const kept = reference.registers[register].map((sibling) => sibling.eventId);
          expect(kept).toEqual(maximalWriters(events, register));
        }
        const text = serializeUserState(reference);
        for (const other of others) expect(serializeUserState(other)).toBe(text);
        for (const policy of POLICIES) {
          const user = visibleUser(reference, policy);
          const conflicts = conflictsOf(reference, policy);
          for (const other of others) {
            expect(visibleUser(other, policy)).toEqual(user);
            expect(conflictsOf(other, policy)).toEqual(conflicts);
          }
        }
        if (conflictsOf(reference, { kind: "lww" }).length > 0) runsWithConflicts++;
      }),
      { numRuns: runs },
    );
    // The generator must produce real concurrency, or the property would hold trivially.
    expect(runsWithConflicts).toBeGreaterThan(runs / 3);
  });

  it("repair: a site's state redelivered as events gives the receiver the state of all events; a second repair sends nothing", () => {
    fc.assert(
      fc.property(
        fc.array(commandArb, { minLength: 1, maxLength: 16 }),
        fc.array(fc.nat({ max: 2 }), { minLength: 1 }),
        fc.integer(),
        (commands, holdings, seed) => {
          const events = simulate(commands);
          fc.pre(events.length > 0);
          const next = seededRandom(seed);
          // Each event reached nyc (0), lon (1) or both (2): a lost range at either site.
          const heldAt = (site: number) =>
            events.filter((_, i) => [site, 2].includes(holdings[i % holdings.length]!));
          const fold = (from: UserState, delivered: readonly UserChanged[]) =>
            delivered.length === 0 ? from : delivery(delivered, next).reduce(applyUserChanged, from);
          const nyc = fold(emptyUserState(USER_ID), heldAt(0));
          const lon = fold(emptyUserState(USER_ID), heldAt(1));
          const everything = fold(emptyUserState(USER_ID), events);

          const sent = redeliveries(eventsOfState(nyc), lon);
          // The schema refuses an upsert that names no field: a surviving write always keeps one.
          for (const event of sent)
            expect(event.operation === "DELETE" || event.changedFields.length > 0).toBe(true);
          const lonRepaired = fold(lon, sent);
          const nycRepaired = fold(nyc, redeliveries(eventsOfState(lonRepaired), nyc));
          expect(serializeUserState(lonRepaired)).toBe(serializeUserState(everything));
          expect(serializeUserState(nycRepaired)).toBe(serializeUserState(everything));
          for (const policy of POLICIES) {
            expect(visibleUser(lonRepaired, policy)).toEqual(visibleUser(everything, policy));
            expect(conflictsOf(nycRepaired, policy)).toEqual(conflictsOf(everything, policy));
          }
          expect(redeliveries(eventsOfState(nycRepaired), lonRepaired)).toEqual([]);
          expect(redeliveries(eventsOfState(lonRepaired), nycRepaired)).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
