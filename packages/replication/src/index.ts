export * from "./topics";
export * from "./ids";
export * from "./heartbeat";
export * from "./metrics";
export * from "./gaps";
export * from "./schedule";
export { RelayPlan } from "./relay-plan";
