export { ObjectStoreError } from "./port";
export type { ObjectHead, ObjectRead, ObjectStore, PutOptions, StoredObject } from "./port";
export { DirectoryObjectStore } from "./directory-store";
export { S3ObjectStore, type S3StoreOptions } from "./s3-store";
export { assertSafeKey } from "./hashing";
export { assertSha256 } from "./verify";
export { openObjectStore } from "./open";
