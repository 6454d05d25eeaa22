import { stringify } from "yaml";

/** A valid two-site topology as a plain object; tests change one thing and stringify it. */
export function validDocument(): Record<string, unknown> & {
  sites: Record<string, unknown>[];
  links: Record<string, unknown>[];
} {
  return {
    sites: [site("nyc"), site("lon")],
    links: [
      { from: "nyc", to: "lon" },
      { from: "lon", to: "nyc" },
    ],
  };
}

export function site(id: string): Record<string, unknown> {
  return {
    id,
    kafka: { brokers: [`kafka.${id}.internal:9092`] },
    registry: { url: `http://registry.${id}.internal:8081` },
    postgres: { connectionString: `postgres://tandem@pg.${id}.internal:5432/tandem` },
    objectStore: { kind: "directory", path: `/srv/${id}/audio` },
  };
}

export function yaml(document: unknown): string {
  return stringify(document);
}
