/**
 * A log4j2 configuration for a JVM server that logs to stdout (its log file): INFO, with the named chatty
 * loggers at WARN. `quiet` maps each logger's key in the properties file to its logger name.
 */
export function log4j2Properties(quiet: Record<string, string>): string {
  return [
    "rootLogger.level=INFO",
    "rootLogger.appenderRef.stdout.ref=STDOUT",
    "appender.stdout.type=Console",
    "appender.stdout.name=STDOUT",
    "appender.stdout.layout.type=PatternLayout",
    "appender.stdout.layout.pattern=[%d] %p %m (%c)%n",
    ...Object.entries(quiet).flatMap(([key, name]) => [
      `logger.${key}.name=${name}`,
      `logger.${key}.level=WARN`,
    ]),
    "",
  ].join("\n");
}
