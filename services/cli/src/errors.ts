/** Bad flags or bad configuration: one clear line and exit code 2, before anything starts. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
