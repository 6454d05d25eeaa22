import { inject } from "vitest";
import { LocalStack } from "@tandem/stack";
import { containerControl } from "./container-stack";
import { testLane, type ProvidedStack, type TestStack } from "./test-stack";

/** What the global setup started for this file's lane. */
export function providedStack(): ProvidedStack {
  const provided = inject("tandemStacks")[testLane() - 1];
  if (provided === undefined) throw new Error(`the global setup started no stack for lane ${testLane()}`);
  return provided;
}

/** The running stack of this file's lane (see global-setup.ts). */
export async function stack(): Promise<TestStack> {
  const provided = providedStack();
  const { endpoints } = provided;
  const site = (id: string) => {
    const found = endpoints.sites.find((s) => s.site === id);
    if (!found) throw new Error(`test stack has no site ${id}`);
    return found;
  };
  if (provided.mode === "containers")
    return { endpoints, sites: endpoints.sites, site, ...containerControl(provided.containers) };
  const local = new LocalStack({ dataDir: provided.dataDir });
  return {
    endpoints,
    sites: endpoints.sites,
    site,
    stop: (s, kind) => local.stopServer(s, kind),
    kill: async (s, kind) => {
      local.killServer(s, kind);
    },
    start: (s, kind) => local.startServer(s, kind),
  };
}
