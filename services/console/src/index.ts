export { runConsole, ConsoleRefused, type ConsoleOptions, type RunningConsole } from "./run";
export { parseListen, type ListenAddress } from "./core/access";
