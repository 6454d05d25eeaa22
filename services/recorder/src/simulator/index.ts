export { Random } from "./random";
export {
  createPopulation,
  newUser,
  phoneNumber,
  externalNumber,
  type Population,
  type PopulationOptions,
  type Tenant,
  type Group,
  type SimUser,
} from "./population";
export {
  CallGenerator,
  callAudio,
  drawDurationMs,
  type CallGeneratorOptions,
  type DurationOptions,
  type SimulatedCall,
} from "./calls";
export { UserChangeGenerator } from "./users";
export {
  wavStream,
  wavHeader,
  wavByteLength,
  sampleCount,
  byteRate,
  bytesPerSample,
  linearToMulaw,
  CODEC_NAMES,
  WAV_CONTENT_TYPE,
  type AudioEncoding,
  type AudioFormat,
  type WavStreamOptions,
} from "./wav";
export { RateScheduler, runPaced, systemClock, type Clock, type PacedOptions } from "./pacing";
export { formatProgress, formatBytes, type Stats } from "./progress";
export {
  runRecorder,
  recorderPopulation,
  type RecorderOptions,
  type RecorderRun,
  type RecorderSite,
} from "./runner";
