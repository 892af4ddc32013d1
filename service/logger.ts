/**
 * Structured JSON logs on stdout, one object per line, in the shape Cloud Logging parses:
 * `severity` (DEBUG..CRITICAL), `message`, an RFC 3339 `time`, and the other fields as jsonPayload.
 */
import pino from "pino";

export type Logger = pino.Logger;

const SEVERITY: Record<string, string> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warn: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

export function createLogger(options: { level: string; instanceId: string }, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      messageKey: "message",
      errorKey: "error",
      base: { instance: options.instanceId },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ severity: SEVERITY[label] ?? "DEFAULT" }),
      },
      // Defence in depth: no code path logs these, and if one ever does they come out masked.
      redact: { paths: ["password", "*.password", "redis.password", "auth", "*.auth"], censor: "[redacted]" },
    },
    destination ?? pino.destination({ sync: false }),
  );
}
