/**
 * Process entry point (`npm start`): configuration from the environment, signals, and the last-resort
 * error handlers of a long-running server.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import pino from "pino";
import { ConfigError, loadConfig, type Config } from "./config";
import { createLogger } from "./logger";
import { createWhiteboardService } from "./server";

function readConfig(): Config {
  try {
    return loadConfig(process.env, () => randomBytes(4).toString("hex"));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger({ level: "info", instanceId: "-" }, pino.destination({ sync: true })).fatal(error.message);
    process.exit(2);
  }
}

const config = readConfig();
const logger = createLogger({ level: config.logLevel, instanceId: config.instanceId });
const service = createWhiteboardService(config, logger, path.join(__dirname, "..", "client"));

// A rejection nobody handled is a bug to log, not a reason to drop every client of this instance.
process.on("unhandledRejection", (reason) => {
  logger.error({ error: reason instanceof Error ? reason.stack : String(reason) }, "unhandled promise rejection");
});
process.on("uncaughtException", (error) => {
  logger.fatal({ error: error.stack }, "uncaught exception");
  logger.flush();
  process.exit(1);
});

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    // Cloud Run kills the container about 10 s after SIGTERM; leave before that whatever happens.
    setTimeout(() => {
      logger.error("drain took too long; exiting anyway");
      logger.flush();
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    service.shutdown().then(
      () => {
        logger.flush();
        process.exit(0);
      },
      (error: Error) => {
        logger.error({ error: error.stack }, "drain failed");
        logger.flush();
        process.exit(1);
      },
    );
  });
}

service.listen().catch((error: Error) => {
  logger.fatal({ error: error.message }, "cannot listen");
  logger.flush();
  process.exit(1);
});
