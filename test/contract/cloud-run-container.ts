/**
 * One container of a Cloud Run revision, started from the reproduced runtime image as Cloud Run starts it: the image's
 * ENV, then the environment the stacks give the container, then what Cloud Run sets itself (PORT, K_SERVICE,
 * K_REVISION, K_CONFIGURATION). Nothing comes from this process's environment.
 *
 * Ports inside an instance: each Cloud Run instance has a network of its own, so the stacks' METRICS_PORT (the port
 * the sidecar scrapes on localhost) never collides with another instance's. Here every container shares this
 * machine's, so each gets a free port in its place; that the sidecar scrapes the stacks' METRICS_PORT is checked by
 * the infra tests.
 *
 * It counts as started once /readyz answers 200, as Cloud Run's startup probe does. It fails at once, with the
 * service's own words, when the process exits or logs an error first, so a refused configuration or an unreachable
 * Redis reads as what it is rather than as a timeout.
 */
import { ManagedProcess } from "../../local/managed-process";
import { freePort, waitFor } from "../../local/ports";
import type { RuntimeImage } from "./runtime-image";

const READY_TIMEOUT_MS = 15_000;
const EXIT_GRACE_MS = 1_000;

export interface CloudRunContainer {
  url: string;
  /** The process id while it runs. */
  pid: number | undefined;
  /** Every line the service printed so far (its JSON log). */
  lines: readonly string[];
  stop(): Promise<void>;
}

/** The service did not become ready: what it said, or how it ended. */
class StartFailure extends Error {
  override name = "StartFailure";
}

export async function startContainer(
  image: RuntimeImage,
  containerEnv: Record<string, string>,
  revision: { service: string; name: string },
  /** What the platform provides besides the stacks' environment (the metadata server's address, played locally). */
  platformEnv: Record<string, string> = {},
): Promise<CloudRunContainer> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const lines: string[] = [];
  let failure: string | undefined;
  const [command, ...args] = image.command;
  const child = new ManagedProcess({
    name: revision.name,
    command,
    args,
    cwd: image.dir,
    user: image.user,
    env: {
      ...image.env,
      ...containerEnv,
      ...platformEnv,
      ...(containerEnv.METRICS_PORT !== undefined ? { METRICS_PORT: String(metricsPort) } : {}),
      PORT: String(port),
      K_SERVICE: revision.service,
      K_REVISION: `${revision.service}-00001-abc`,
      K_CONFIGURATION: revision.service,
    },
    onLine: (line) => {
      lines.push(line);
      failure ??= serviceError(line);
    },
  });
  child.start();
  const container = { url, pid: child.pid, lines, stop: async () => void (await child.stop("SIGTERM", 3_000)) };
  try {
    await waitFor(
      `${revision.name} to be ready`,
      async () => {
        if (!child.running || failure) return true;
        return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) })).status === 200;
      },
      READY_TIMEOUT_MS,
    );
  } catch {
    failure ??= `not ready after ${READY_TIMEOUT_MS / 1000} s`;
  }
  if (child.running && !failure) return container;

  // A refused configuration is logged, then the process exits: give it the moment to, so its exit code shows.
  const exit = await Promise.race([
    child.exited(),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), EXIT_GRACE_MS)),
  ]);
  await container.stop();
  const how = exit ? `exited (${exit.code ?? exit.signal})` : "is running but not ready";
  throw new StartFailure(`${revision.name} ${how}: ${failure ?? crash(lines)}`);
}

/** Node's own report of an uncaught error (such as a missing module), or the last lines. */
function crash(lines: string[]): string {
  return lines.find((line) => /^\w*Error\b.*:/.test(line)) ?? lines.slice(-5).join("\n");
}

/** The message of an ERROR or CRITICAL log line of the service (with its `error` field), else undefined. */
function serviceError(line: string): string | undefined {
  try {
    const { severity, message, error } = JSON.parse(line) as { severity?: string; message?: string; error?: unknown };
    if (severity !== "ERROR" && severity !== "CRITICAL") return undefined;
    return [message, error]
      .filter((part) => part !== undefined)
      .map(String)
      .join(": ");
  } catch {
    // Not the service's JSON: Node's own crash output, which the last lines show if the process exits.
    return undefined;
  }
}
