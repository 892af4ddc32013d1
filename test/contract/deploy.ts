/**
 * A deployment played locally, as the contract and container tests run it: the stacks' container environment with
 * the Memorystore stand-in in Memorystore's place, two containers of the reproduced image, then what a user needs
 * from them (the page and its assets, and the protocol across the two).
 *
 * It fails when the stacks set a variable the service does not read, leave a reference without a local value, or
 * give the service something it refuses or cannot work with (the service's own message says which).
 */
import { RedisCluster } from "../../local/redis-cluster";
import type { RedisServer } from "../../local/redis-server";
import { SERVICE_VARIABLES } from "../../service/config";
import { type CloudRunContainer, startContainer } from "./cloud-run-container";
import { resolveForStandIn, standInValues, type SynthesizedService } from "./cloud-run-env";
import { protocolRoundTrip } from "./round-trip";
import type { RuntimeImage } from "./runtime-image";

/** Variables Node itself reads, not the service. */
export const RUNTIME_VARIABLES: readonly string[] = ["NODE_OPTIONS"];

export async function deployLocally(
  service: SynthesizedService,
  redis: RedisServer | RedisCluster,
  image: RuntimeImage,
): Promise<void> {
  const unread = service.env
    .map((entry) => entry.name)
    .filter((name) => !SERVICE_VARIABLES.includes(name) && !RUNTIME_VARIABLES.includes(name));
  if (unread.length > 0) throw new Error(`the stacks set ${unread.join(", ")}, which the service does not read`);
  if (service.env.some((entry) => entry.name === "GCE_METADATA_HOST"))
    throw new Error("the stacks set GCE_METADATA_HOST: on Cloud Run the metadata server is the platform's");
  const env = resolveForStandIn(service, standInValues(redis));
  // What Cloud Run's platform provides besides the environment: the metadata server (at metadata.google.internal
  // there, played here by the cluster stand-in's, named the way Google's client libraries let it be moved).
  const platform: Record<string, string> =
    redis instanceof RedisCluster && redis.metadata ? { GCE_METADATA_HOST: redis.metadata.host } : {};

  const started = await Promise.allSettled(
    ["instance-a", "instance-b"].map((name) => startContainer(image, env, { service: service.name, name }, platform)),
  );
  const containers = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  try {
    const failed = started.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    const [first, second] = containers as [CloudRunContainer, CloudRunContainer];
    await servesTheBrowserClient(first.url);
    // A browser on an allowed origin, when the stacks name some; otherwise a client without an Origin header.
    await protocolRoundTrip(first.url, second.url, { origin: env.ALLOWED_ORIGINS?.split(",")[0] });
  } finally {
    await Promise.all(containers.map((container) => container.stop()));
  }
}

/** The page, and every script and style it links to. */
async function servesTheBrowserClient(url: string): Promise<void> {
  const page = await fetch(url);
  if (page.status !== 200) throw new Error(`GET / answered ${page.status}: ${await page.text()}`);
  const assets = [...(await page.text()).matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1]!);
  if (assets.length === 0) throw new Error("the page links to no script or style under /assets/");
  for (const asset of assets) {
    const response = await fetch(`${url}${asset}`);
    if (response.status !== 200) throw new Error(`GET ${asset} answered ${response.status}`);
  }
}
