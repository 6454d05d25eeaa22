import { inject } from "vitest";
import { LocalStack } from "@tandem/stack";
import { containerControl } from "./container-stack";
import type { TestStack } from "./test-stack";

/** The running stack of the integration run (see global-setup.ts). */
export async function stack(): Promise<TestStack> {
  const provided = inject("tandemStack");
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
