export { LocalStack, DEFAULT_BASE_PORT, DEFAULT_SITES, type StackOptions, type ServerStatus } from "./stack";
export type { SiteEndpoints, StackEndpoints } from "./endpoints";
export {
  sitePorts,
  bucketName,
  validateSites,
  SERVER_KINDS,
  type ServerKind,
  type SitePorts,
} from "./layout";
export { credentialsFile } from "./credentials";
export * as versions from "./versions";
