export { ObjectStoreError, type ObjectStore, type PutOptions, type StoredObject } from "./port";
export { DirectoryObjectStore } from "./directory-store";
export { S3ObjectStore, type S3StoreOptions } from "./s3-store";
export { assertSafeKey } from "./hashing";
export { openObjectStore } from "./open";
