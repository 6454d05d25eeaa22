export {
  LocalStack,
  DEFAULT_BASE_PORT,
  DEFAULT_SITES,
  layoutChange,
  type StackOptions,
  type ServerStatus,
} from "./stack";
export type { RemoteAddresses, SiteEndpoints, StackEndpoints } from "./endpoints";
export * from "./wan";
export { WanControl, CUT_MODES, type CutMode, type DirectionState, type PlannedProxy } from "./wan-control";
export { ToxiproxyClient, ToxiproxyError, type ToxiproxyProxy } from "./toxiproxy";
export {
  sitePorts,
  bucketName,
  cacheDirOf,
  caCertificateFile,
  serverLogFile,
  validateSites,
  SERVER_KINDS,
  type ServerKind,
  type SitePorts,
  type StackLayout,
} from "./layout";
export {
  serverProperties,
  scramFormatArgs,
  SCRAM_MECHANISMS,
  type BrokerSettings,
} from "./servers/kafka-properties";
export { resolveClasspath } from "./artifacts";
export { log4j2Properties } from "./log4j";
export { credentialsFile, type StackCredentials } from "./credentials";
export * as versions from "./versions";
