import { describe, expect, it } from "vitest";
import { validateCallCompleted, validateUserChanged } from "@tandem/events";
import type { ValidationIssue } from "@tandem/events";
import { sampleCall, sampleUser } from "./fixtures";

function callIssues(input: unknown): ValidationIssue[] {
  const result = validateCallCompleted(input);
  return result.ok ? [] : result.error.issues;
}

function userIssues(input: unknown): ValidationIssue[] {
  const result = validateUserChanged(input);
  return result.ok ? [] : result.error.issues;
}

const paths = (issues: ValidationIssue[]) => issues.map((i) => i.path);

describe("validateCallCompleted", () => {
  it("accepts a well-formed call, with and without audio", () => {
    expect(validateCallCompleted(sampleCall())).toEqual({ ok: true, value: sampleCall() });
    expect(callIssues(sampleCall({ audio: null }))).toEqual([]);
  });

  it("reports a missing id as missing", () => {
    const { callId: _dropped, ...withoutCallId } = sampleCall();
    expect(callIssues(withoutCallId)).toEqual([{ path: "callId", problem: "is missing" }]);
  });

  it("reports a field of the wrong type as such, not as missing", () => {
    expect(callIssues(sampleCall({ callId: 42 as unknown as string }))).toEqual([
      { path: "callId", problem: "Invalid input: expected string, received number" },
    ]);
  });

  it.each(["eventId", "callId", "tenantId", "groupId"] as const)("refuses a non-UUID %s", (field) => {
    expect(callIssues(sampleCall({ [field]: "call-42" }))).toEqual([
      { path: field, problem: "must be a canonical lowercase UUID" },
    ]);
  });

  it("refuses a non-UUID participant, naming its index", () => {
    const call = sampleCall();
    expect(paths(callIssues({ ...call, participantUserIds: [call.participantUserIds[0], "42"] }))).toEqual([
      "participantUserIds.1",
    ]);
  });

  it("refuses a UUID in upper case, which would not match its lowercase spelling", () => {
    expect(paths(callIssues(sampleCall({ tenantId: sampleCall().tenantId.toUpperCase() })))).toEqual([
      "tenantId",
    ]);
  });

  it("refuses a bad tenant format, such as a slug or a path", () => {
    expect(paths(callIssues(sampleCall({ tenantId: "acme" })))).toEqual(["tenantId"]);
    expect(paths(callIssues(sampleCall({ tenantId: "../8d7c6b5a-4e3f-4a1b-8c9d-0e1f2a3b4c5d" })))).toEqual([
      "tenantId",
    ]);
  });

  it("refuses an end before the start", () => {
    expect(callIssues(sampleCall({ startedAtMs: 2000, endedAtMs: 1000, durationMs: -1000 }))).toContainEqual({
      path: "endedAtMs",
      problem: "must not be before startedAtMs",
    });
  });

  it("refuses a duration inconsistent with start and end", () => {
    expect(callIssues(sampleCall({ startedAtMs: 1000, endedAtMs: 3000, durationMs: 1999 }))).toEqual([
      { path: "durationMs", problem: "must equal endedAtMs - startedAtMs (2000)" },
    ]);
  });

  it("refuses a negative size", () => {
    const call = sampleCall();
    expect(callIssues({ ...call, audio: { ...call.audio, sizeBytes: -1 } })).toEqual([
      { path: "audio.sizeBytes", problem: "must not be negative" },
    ]);
  });

  it("refuses a sha256 that is not 64 lowercase hex characters", () => {
    const call = sampleCall();
    const audio = call.audio!;
    for (const sha256 of ["abc", audio.sha256.toUpperCase(), `${audio.sha256}0`]) {
      expect(paths(callIssues({ ...call, audio: { ...audio, sha256 } }))).toEqual(["audio.sha256"]);
    }
  });

  it("refuses an audio key that climbs out of its prefix", () => {
    const call = sampleCall();
    for (const objectKey of ["/etc/passwd", "tenants/../../x.wav", "tenants//x.wav"]) {
      expect(paths(callIssues({ ...call, audio: { ...call.audio, objectKey } }))).toEqual([
        "audio.objectKey",
      ]);
    }
  });

  it("refuses a bad origin site id", () => {
    for (const originSite of ["NYC", "n", "1nyc", "nyc.east"]) {
      expect(paths(callIssues(sampleCall({ originSite })))).toEqual(["originSite"]);
    }
  });

  it("refuses unknown fields, which the schema would silently drop", () => {
    expect(paths(callIssues({ ...sampleCall(), tenant: "x" }))).toEqual([""]);
  });

  it("lists every problem at once", () => {
    expect(paths(callIssues(sampleCall({ eventId: "x", groupId: "y", originSite: "Z" })))).toEqual([
      "eventId",
      "groupId",
      "originSite",
    ]);
  });
});

describe("validateUserChanged", () => {
  it("accepts a well-formed upsert and delete", () => {
    expect(userIssues(sampleUser())).toEqual([]);
    expect(
      userIssues(
        sampleUser({
          operation: "DELETE",
          changedFields: [],
          fields: { name: null, email: null, extensions: null, role: null, active: null },
        }),
      ),
    ).toEqual([]);
  });

  it("reports a missing id as missing", () => {
    const { userId: _dropped, ...withoutUserId } = sampleUser();
    expect(userIssues(withoutUserId)).toEqual([{ path: "userId", problem: "is missing" }]);
  });

  it.each(["eventId", "userId", "tenantId", "groupId"] as const)("refuses a non-UUID %s", (field) => {
    expect(paths(userIssues(sampleUser({ [field]: "12345" })))).toEqual([field]);
  });

  it("refuses an UPSERT that changes nothing", () => {
    expect(userIssues(sampleUser({ changedFields: [] }))).toEqual([
      { path: "changedFields", problem: "must name at least one field for an UPSERT" },
    ]);
  });

  it("refuses a DELETE that names changed fields", () => {
    expect(paths(userIssues(sampleUser({ operation: "DELETE", changedFields: ["name"] })))).toEqual([
      "changedFields",
    ]);
  });

  it("refuses an unknown or repeated field name", () => {
    expect(paths(userIssues({ ...sampleUser(), changedFields: ["nickname"] }))).toEqual(["changedFields.0"]);
    expect(paths(userIssues(sampleUser({ changedFields: ["name", "name"] })))).toEqual(["changedFields"]);
  });

  it("refuses a base version keyed by something other than a site id", () => {
    expect(
      paths(userIssues(sampleUser({ baseVersion: { "NOT A SITE": { wallTimeMs: 1, logical: 0 } } }))),
    ).toEqual(["baseVersion.NOT A SITE"]);
  });

  it("refuses an HLC that does not fit the schema", () => {
    expect(paths(userIssues(sampleUser({ hlc: { wallTimeMs: -1, logical: 0 } })))).toEqual([
      "hlc.wallTimeMs",
    ]);
    expect(paths(userIssues(sampleUser({ hlc: { wallTimeMs: 1, logical: 2 ** 31 } })))).toEqual([
      "hlc.logical",
    ]);
  });

  it("refuses a malformed e-mail address", () => {
    const user = sampleUser();
    expect(paths(userIssues({ ...user, fields: { ...user.fields, email: "bob" } }))).toEqual([
      "fields.email",
    ]);
  });
});
