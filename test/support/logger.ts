import pino from "pino";
import { createLogger, type Logger } from "@tandem/runtime";

/** Services under test log to stderr only when TANDEM_TEST_LOG is set (e.g. TANDEM_TEST_LOG=info). */
export function testLogger(name: string): Logger {
  const level = process.env.TANDEM_TEST_LOG;
  if (level === undefined) return pino({ level: "silent" });
  const logger = createLogger(name);
  logger.level = level;
  return logger;
}
