export * from "./publisher";
export * from "./simulator";
