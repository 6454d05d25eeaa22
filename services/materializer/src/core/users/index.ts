export { emptyUserState, applyUserChanged, REGISTER_NAMES, USER_FIELD_NAMES } from "./state";
export type { UserState, UserRegisters, RegisterName, RegisterValues, UserIdentity } from "./state";
export type { Sibling, Register } from "./register";
export type { MergePolicy } from "./policy";
export { visibleUser, conflictsOf, isDeleted } from "./view";
export type { VisibleUser, UserConflict, ConflictStatus } from "./view";
export { resolutionFor } from "./resolution";
export type { ResolutionChoice, ResolutionStamp } from "./resolution";
export { serializeUserState, parseUserState, decodeUserState } from "./codec";
