import { describe, expect, it } from "vitest";
import type { Stream } from "@tandem/config";
import { RelayPlan } from "@tandem/replication";

const both: Stream[] = ["calls", "users"];
const link = (from: string, to: string, streams: Stream[] = both) => ({ from, to, streams });
const twoWay = (a: string, b: string, streams: Stream[] = both) => [link(a, b, streams), link(b, a, streams)];

describe("relay plan", () => {
  it("delivers over the direct link in a full mesh and never relays", () => {
    const plan = new RelayPlan([...twoWay("a", "b"), ...twoWay("b", "c"), ...twoWay("a", "c")]);
    expect(plan.carries("a", "a", "c", "calls")).toBe(true);
    expect(plan.carries("a", "b", "c", "calls")).toBe(false);
    expect(plan.carries("a", "c", "b", "users")).toBe(false);
  });

  it("relays through the middle of a chain", () => {
    const plan = new RelayPlan([...twoWay("a", "b"), ...twoWay("b", "c")]);
    expect(plan.carries("a", "b", "c", "calls")).toBe(true);
    expect(plan.carries("c", "b", "a", "calls")).toBe(true);
    expect(plan.carries("a", "a", "b", "calls")).toBe(true);
  });

  it("plans each stream over the links that carry it", () => {
    const plan = new RelayPlan([...twoWay("a", "b"), ...twoWay("b", "c"), link("a", "c", ["calls"])]);
    expect(plan.carries("a", "a", "c", "calls")).toBe(true);
    expect(plan.carries("a", "b", "c", "calls")).toBe(false);
    expect(plan.carries("a", "b", "c", "users")).toBe(true);
  });

  it("breaks ties between equal paths by site id, so exactly one relay is chosen", () => {
    // a reaches d through b or c, both two hops.
    const plan = new RelayPlan([link("a", "b"), link("a", "c"), link("b", "d"), link("c", "d")]);
    expect(plan.carries("a", "b", "d", "calls")).toBe(true);
    expect(plan.carries("a", "c", "d", "calls")).toBe(false);
  });

  it("carries nothing to a site the origin cannot reach", () => {
    const plan = new RelayPlan([link("a", "b"), link("c", "b")]);
    expect(plan.carries("b", "b", "a", "calls")).toBe(false);
  });

  it("gives the path an origin's events take to a site", () => {
    const plan = new RelayPlan([...twoWay("a", "b"), ...twoWay("b", "c")]);
    expect(plan.pathTo("a", "c", "calls")).toEqual(["a", "b", "c"]);
    expect(plan.pathTo("a", "a", "calls")).toEqual(["a"]);
    expect(new RelayPlan([link("a", "b")]).pathTo("b", "a", "users")).toBeUndefined();
  });
});
