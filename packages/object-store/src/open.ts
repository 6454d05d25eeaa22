import { DirectoryObjectStore } from "./directory-store";
import type { ObjectStore } from "./port";
import { S3ObjectStore, type S3StoreConfig } from "./s3-store";

export type ObjectStoreConfig = ({ kind: "s3" } & S3StoreConfig) | { kind: "directory"; path: string };

export function openObjectStore(config: ObjectStoreConfig): ObjectStore {
  return config.kind === "s3" ? new S3ObjectStore(config) : new DirectoryObjectStore(config.path);
}
