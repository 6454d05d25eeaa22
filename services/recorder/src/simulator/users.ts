import { versionOf, type UserChanged, type UserFields, type VersionVector } from "@tandem/events";
import type { UserEdit } from "../publisher";
import {
  ROLES,
  emailFor,
  newUser,
  personName,
  type Population,
  type SimUser,
  type Tenant,
} from "./population";
import type { Random } from "./random";

const OPERATIONS = { create: 3, edit: 5, delete: 1 } as const;
const EDITABLE = ["name", "email", "extensions", "role", "active"] as const;

/**
 * Plays the site's user administration: provisions the population's users (so calls name known users),
 * then creates more, edits fields and deletes users, deterministically per seed.
 *
 * Base versions come from memory: the version of each user this simulator wrote, as acknowledged by
 * `acknowledge` after a publish. Only users it created itself are edited or deleted, and only those
 * beyond the population are deleted, so calls never name a deleted user.
 */
export class UserChangeGenerator {
  private readonly pending: SimUser[];
  private readonly created: SimUser[] = [];
  private readonly versions = new Map<string, VersionVector>();
  private readonly population: ReadonlySet<string>;
  private readonly tenants: Tenant[];

  constructor(
    private readonly random: Random,
    population: Population,
  ) {
    // Copies: edits change a user's fields here, and must not change the names calls are generated with.
    this.pending = population.users.map((u) => ({
      ...u,
      fields: { ...u.fields, extensions: [...u.fields.extensions] },
    }));
    this.population = new Set(population.users.map((u) => u.id));
    this.tenants = population.tenants;
  }

  /** The next edit, based on the last acknowledged version of its user. */
  next(): UserEdit {
    const deletable = this.created.filter((u) => !this.population.has(u.id));
    let operation: keyof typeof OPERATIONS = this.random.weighted(OPERATIONS);
    if (operation === "delete" && deletable.length === 0) operation = "create";
    if (operation === "edit" && this.created.length === 0) operation = "create";

    if (operation === "create") {
      const user = this.pending.shift() ?? this.freshUser();
      this.created.push(user);
      return this.edit(user, "UPSERT", { ...user.fields });
    }
    if (operation === "delete") {
      const user = this.random.pick(deletable);
      this.created.splice(this.created.indexOf(user), 1);
      return this.edit(user, "DELETE");
    }
    const user = this.random.pick(this.created);
    return this.edit(user, "UPSERT", this.fieldChanges(user));
  }

  /** Records the version a published edit produced, the base of the next edit of that user. */
  acknowledge(event: UserChanged): void {
    if (event.operation === "DELETE") this.versions.delete(event.userId);
    else this.versions.set(event.userId, versionOf(event));
  }

  private edit(user: SimUser, operation: UserEdit["operation"], changes?: Partial<UserFields>): UserEdit {
    return {
      // Fixed per edit, so that a retry after a failed send publishes the same event.
      eventId: this.random.uuid(),
      userId: user.id,
      tenantId: user.tenantId,
      groupId: user.groupId,
      operation,
      ...(changes === undefined ? {} : { changes }),
      baseVersion: this.versions.get(user.id) ?? {},
    };
  }

  private freshUser(): SimUser {
    const tenant = this.random.pick(this.tenants);
    return newUser(this.random, tenant, this.random.pick(tenant.groups));
  }

  /** One or two fields changed in a way an administrator would; the user's copy follows. */
  private fieldChanges(user: SimUser): Partial<UserFields> {
    const count = this.random.chance(0.3) ? 2 : 1;
    const fields = new Set<(typeof EDITABLE)[number]>();
    while (fields.size < count) fields.add(this.random.pick(EDITABLE));
    const domain = user.fields.email.split("@")[1] ?? "example.com";
    const changes: Partial<UserFields> = {};
    for (const field of fields) {
      switch (field) {
        case "name":
          user.fields.name = `${user.fields.name.split(" ")[0]} ${personName(this.random).split(" ")[1]}`;
          changes.name = user.fields.name;
          break;
        case "email":
          user.fields.email = emailFor(user.fields.name, domain, this.random);
          changes.email = user.fields.email;
          break;
        case "extensions":
          user.fields.extensions =
            this.random.chance(0.5) && user.fields.extensions.length < 3
              ? [...user.fields.extensions, String(this.random.int(2000, 7999))]
              : [String(this.random.int(2000, 7999))];
          changes.extensions = [...user.fields.extensions];
          break;
        case "role":
          user.fields.role = this.random.pick(ROLES.filter((r) => r !== user.fields.role));
          changes.role = user.fields.role;
          break;
        case "active":
          user.fields.active = !user.fields.active;
          changes.active = user.fields.active;
          break;
      }
    }
    return changes;
  }
}
