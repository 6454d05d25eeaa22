import type { UserFields } from "@tandem/events";
import type { Random } from "./random";

/** A numbering plan for plausible E.164 numbers: country code, national prefixes, digits after them. */
interface NumberingPlan {
  countryCode: string;
  prefixes: readonly string[];
  subscriberDigits: number;
}

const PLANS: readonly NumberingPlan[] = [
  { countryCode: "1", prefixes: ["212", "415", "617", "312", "206"], subscriberDigits: 7 },
  { countryCode: "44", prefixes: ["20", "161", "131"], subscriberDigits: 7 },
  { countryCode: "49", prefixes: ["30", "89", "40"], subscriberDigits: 8 },
  { countryCode: "33", prefixes: ["1", "4"], subscriberDigits: 8 },
];

const TENANT_NAMES = [
  "Acme Health",
  "Globex Insurance",
  "Initech Bank",
  "Umbrella Travel",
  "Stark Energy",
  "Wayne Logistics",
  "Hooli Telecom",
  "Vandelay Imports",
];
const GROUP_NAMES = ["Support", "Sales", "Billing", "Claims", "Retention", "Onboarding", "Collections"];
const FIRST_NAMES = [
  "Ada",
  "Grace",
  "Alan",
  "Edsger",
  "Barbara",
  "Donald",
  "Frances",
  "John",
  "Katherine",
  "Linus",
  "Margaret",
  "Niklaus",
  "Radia",
  "Ken",
  "Sophie",
  "Tim",
  "Hedy",
  "Dennis",
  "Shafi",
  "Leslie",
];
const LAST_NAMES = [
  "Lovelace",
  "Hopper",
  "Turing",
  "Dijkstra",
  "Liskov",
  "Knuth",
  "Allen",
  "Backus",
  "Johnson",
  "Torvalds",
  "Hamilton",
  "Wirth",
  "Perlman",
  "Thompson",
  "Wilson",
  "Berners-Lee",
  "Lamarr",
  "Ritchie",
  "Goldwasser",
  "Lamport",
];
export const ROLES = ["agent", "supervisor", "quality-analyst", "admin"] as const;

export interface SimUser {
  id: string;
  tenantId: string;
  groupId: string;
  /** The user's direct number, E.164. */
  number: string;
  fields: UserFields & { name: string; email: string; extensions: string[] };
}

export interface Group {
  id: string;
  tenantId: string;
  name: string;
  users: SimUser[];
}

export interface Tenant {
  id: string;
  name: string;
  domain: string;
  plan: NumberingPlan;
  groups: Group[];
}

export interface PopulationOptions {
  tenants?: number;
  groupsPerTenant?: number;
  usersPerGroup?: number;
}

export interface Population {
  tenants: Tenant[];
  /** Every user of every group, in a fixed order. */
  users: SimUser[];
}

/** A plausible E.164 number in the plan: `+<country><prefix><subscriber>`. */
export function phoneNumber(random: Random, plan: NumberingPlan): string {
  // National subscriber numbers do not start with 0 or 1.
  return `+${plan.countryCode}${random.pick(plan.prefixes)}${random.int(2, 9)}${random.digits(plan.subscriberDigits - 1)}`;
}

/** A number from anywhere: the outside party of an inbound or outbound call. */
export function externalNumber(random: Random): string {
  return phoneNumber(random, random.pick(PLANS));
}

export function personName(random: Random): string {
  return `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`;
}

export function emailFor(name: string, domain: string, random: Random): string {
  const local = name.toLowerCase().replace(/[^a-z]+/g, ".");
  return `${local}.${random.digits(3)}@${domain}`;
}

/** A new user of the group, with every field set. */
export function newUser(random: Random, tenant: Tenant, group: Group): SimUser {
  const name = personName(random);
  return {
    id: random.uuid(),
    tenantId: tenant.id,
    groupId: group.id,
    number: phoneNumber(random, tenant.plan),
    fields: {
      name,
      email: emailFor(name, tenant.domain, random),
      extensions: [String(random.int(2000, 7999))],
      role: random.weighted({ agent: 8, supervisor: 2, "quality-analyst": 1, admin: 0.5 }),
      active: true,
    },
  };
}

/** Tenants, groups and users, all derived from the random stream (ids included). */
export function createPopulation(random: Random, options: PopulationOptions = {}): Population {
  const tenantCount = options.tenants ?? 3;
  const groupsPerTenant = options.groupsPerTenant ?? 3;
  const usersPerGroup = options.usersPerGroup ?? 8;
  if (tenantCount < 1 || groupsPerTenant < 1 || usersPerGroup < 2) {
    // Internal calls need two users of the same group.
    throw new RangeError("a population needs at least 1 tenant, 1 group per tenant and 2 users per group");
  }
  const tenants: Tenant[] = [];
  for (let t = 0; t < tenantCount; t++) {
    const name = TENANT_NAMES[t % TENANT_NAMES.length]!;
    const suffix = t < TENANT_NAMES.length ? "" : `-${Math.floor(t / TENANT_NAMES.length)}`;
    const tenant: Tenant = {
      id: random.uuid(),
      name: `${name}${suffix}`,
      domain: `${name.toLowerCase().replace(/[^a-z]+/g, "-")}${suffix}.example`,
      plan: random.pick(PLANS),
      groups: [],
    };
    for (let g = 0; g < groupsPerTenant; g++) {
      const group: Group = {
        id: random.uuid(),
        tenantId: tenant.id,
        name: GROUP_NAMES[g % GROUP_NAMES.length]!,
        users: [],
      };
      for (let u = 0; u < usersPerGroup; u++) group.users.push(newUser(random, tenant, group));
      tenant.groups.push(group);
    }
    tenants.push(tenant);
  }
  return { tenants, users: tenants.flatMap((t) => t.groups.flatMap((g) => g.users)) };
}
