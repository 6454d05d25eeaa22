import pino from "pino";

export type Logger = pino.Logger;

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
const SECRET_PATHS = [
  "password",
  "secretAccessKey",
  "accessKeyId",
  "connectionString",
  "sasl",
  "*.password",
  "*.secretAccessKey",
  "*.accessKeyId",
  "*.connectionString",
  "*.sasl",
  "*.*.password",
  "*.*.secretAccessKey",
  "*.*.connectionString",
];

/** JSON lines on stderr (stdout is for command output); level from TANDEM_LOG_LEVEL. */
export function createLogger(
  name: string,
  destination: pino.DestinationStream = pino.destination(2),
): Logger {
  return pino(
    {
      name,
      level: process.env.TANDEM_LOG_LEVEL ?? "info",
      redact: { paths: SECRET_PATHS, censor: "***" },
    },
    destination,
  );
}
