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

export function createLogger(
  options: { level: string; instanceId: string },
  destination?: pino.DestinationStream,
): Logger {
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
      // And a URL's user name and password, wherever a URL appears: a password may sit in either slot.
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => redactCredentials(arg, 3)) as Parameters<typeof method>);
        },
      },
    },
    destination ?? pino.destination({ sync: false }),
  );
}

/** `scheme://user:password@` and `scheme://user@` as `scheme://[redacted]@`. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"']*@/gi;

export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, "$1[redacted]@");
}

/** Strings, and the strings in plain objects and arrays down to `depth`, with URL credentials redacted. */
function redactCredentials(value: unknown, depth: number): unknown {
  if (typeof value === "string") return value.includes("@") ? redactUrlCredentials(value) : value;
  if (depth === 0 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => redactCredentials(item, depth - 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactCredentials(item, depth - 1)]));
}
