import type { Kafka } from "kafkajs";
import type { Topology } from "@tandem/config";
import { GroupSizeWatch } from "@tandem/kafka";
import { callsLinkInto, capAt, linkName, materializerGroupId, RelayPlan } from "@tandem/replication";
import { Throttle } from "@tandem/runtime";

export interface AudioPace {
  /** The throttle of copies from an origin; undefined when the link that brings its calls is uncapped. */
  throttleFor(originSite: string): Throttle | undefined;
  stop(): Promise<void>;
}

/**
 * Audio copies from an origin keep to the cap of the link that brings its calls to this site, shared by
 * the site's materializer instances (the members of its group): one throttle per capped link.
 */
export function audioPace(topology: Topology, siteId: string, kafka: Kafka, now: () => Date): AudioPace {
  const plan = new RelayPlan(topology.links);
  const capped = topology.links.some((link) => link.to === siteId && link.bandwidth !== undefined);
  const admin = capped ? kafka.admin() : undefined;
  const instances = admin === undefined ? undefined : new GroupSizeWatch(admin, materializerGroupId(siteId));
  if (admin !== undefined)
    void admin.connect().then(
      () => instances?.start(),
      () => instances?.start(),
    );
  const throttles = new Map<string, Throttle>();
  return {
    throttleFor(originSite) {
      const link = callsLinkInto(topology.links, plan, originSite, siteId);
      if (link?.bandwidth === undefined) return undefined;
      const name = linkName(link);
      let throttle = throttles.get(name);
      if (throttle === undefined) {
        throttle = new Throttle(() => {
          const cap = capAt(link.bandwidth, now());
          return cap === undefined ? undefined : cap / (instances?.size ?? 1);
        });
        throttles.set(name, throttle);
      }
      return throttle;
    },
    async stop() {
      instances?.stop();
      await admin?.disconnect().catch(() => {});
    },
  };
}
