export {
  RecorderPublisher,
  type AudioInput,
  type CallMetadata,
  type UserEdit,
  type BaseVersionSource,
} from "./publisher";
