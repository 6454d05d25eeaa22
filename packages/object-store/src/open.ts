import type { ObjectStoreConfig } from "@tandem/config";
import { DirectoryObjectStore } from "./directory-store";
import type { ObjectStore } from "./port";
import { S3ObjectStore } from "./s3-store";

export function openObjectStore(config: ObjectStoreConfig): ObjectStore {
  return config.kind === "s3" ? new S3ObjectStore(config) : new DirectoryObjectStore(config.path);
}
