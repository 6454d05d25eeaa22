/** What a client needs to reach one site's servers, whoever started them (local stack or containers). */
export interface SiteEndpoints {
  site: string;
  kafka: {
    brokers: string[];
    /** Secure mode: TLS, trusting the CA certificate in this PEM file. */
    ssl?: { ca: string };
    /** Secure mode: SASL/SCRAM credentials. */
    sasl?: { mechanism: "scram-sha-512"; username: string; password: string };
  };
  registry: { url: string };
  postgres: { connectionString: string; database: string };
  objectStore: {
    kind: "s3";
    endpoint: string;
    region: string;
    bucket: string;
    accessKeyId: string;
    secretAccessKey: string;
    forcePathStyle: true;
  };
  /** WAN profile: the addresses another site's services reach this one at (that direction's proxies). */
  reachedFrom?: Record<string, RemoteAddresses>;
}

export interface RemoteAddresses {
  kafka: { brokers: string[] };
  registry: { url: string };
  objectStore: { endpoint: string };
}

export interface StackEndpoints {
  sites: SiteEndpoints[];
}
