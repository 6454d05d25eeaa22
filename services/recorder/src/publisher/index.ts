export {
  RecorderPublisher,
  callEventFor,
  userEventFor,
  type AudioDescription,
  type AudioInput,
  type CallMetadata,
  type UserEdit,
  type BaseVersionSource,
} from "./publisher";
