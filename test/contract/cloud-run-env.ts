/**
 * The Cloud Run container's environment exactly as the real infra code synthesizes it, and the same environment with
 * each cross-stack reference replaced by the local Memorystore stand-in's value.
 *
 * A reference is followed to the foundation attribute it stands for (the Redis instance's host, port, CA certificates,
 * or the AUTH string through its Secret Manager secret), and the stand-in plays that attribute. So a wiring mistake in
 * the stacks (the port where the host belongs, another secret) reaches the service as it would on Cloud Run. Any
 * `${...}` without a local value stops the test, naming the variable and the expression.
 */
import type { InfraConfigInput } from "../../infra/config/schema";
import { RedisCluster } from "../../local/redis-cluster";
import type { RedisServer } from "../../local/redis-server";
import { onlyResource, stack, synthesize, type TerraformJson } from "../infra/helpers";

/** One entry of `template.containers[0].env`, as synthesized. */
export interface EnvEntry {
  name: string;
  value?: string;
  value_source?: { secret_key_ref?: { secret: string; version: string } };
}

export interface SynthesizedService {
  /** The Cloud Run service's name: Cloud Run's K_SERVICE and K_CONFIGURATION. */
  name: string;
  env: EnvEntry[];
  foundation: TerraformJson;
}

/** What the stand-in gives for each Memorystore attribute the stacks can reference. */
export interface MemorystoreValues {
  host: string;
  port: number;
  caCertificates: string[];
  /** Memorystore for Redis only; a cluster has none (IAM authentication). */
  authString?: string;
}

/** The stand-in's value for each of those attributes: the single instance's, or the cluster's discovery endpoint's. */
export function standInValues(redis: RedisServer | RedisCluster): MemorystoreValues {
  if (redis instanceof RedisCluster) return { host: redis.host, port: redis.port, caCertificates: [redis.caCertPem] };
  return {
    host: redis.host,
    port: redis.port,
    caCertificates: [redis.serviceEnv.REDIS_CA_CERT ?? ""],
    authString: redis.password,
  };
}

/** Synthesizes the real stacks for `input`: the Cloud Run service's name and container environment, and the foundation. */
export function synthesizeService(input: InfraConfigInput): SynthesizedService {
  const environment = input.environment ?? "dev";
  const stacks = synthesize(input);
  const service = onlyResource(stack(stacks, `${environment}-app`), "google_cloud_run_v2_service") as {
    name: string;
    template: { containers: Array<{ env: EnvEntry[] }> };
  };
  const container = service.template.containers[0];
  if (!container) throw new Error("the Cloud Run service has no container");
  return { name: service.name, env: container.env, foundation: stack(stacks, `${environment}-foundation`) };
}

/** The container's environment with the stand-in in Memorystore's place. */
export function resolveForStandIn(service: SynthesizedService, standIn: MemorystoreValues): Record<string, string> {
  const evaluate = evaluator(service.foundation, standIn);
  const resolved: Record<string, string> = {};
  for (const entry of service.env) {
    const secret = entry.value_source?.secret_key_ref;
    const value = secret ? secretValue(service.foundation, secret) : (entry.value ?? "");
    const text = value.replace(/\$\{([^}]*)\}/g, (token, expression: string) => {
      const result = evaluate(expression);
      return typeof result === "string" ? result : token;
    });
    const left = /\$\{.*\}/.exec(text);
    if (left) {
      throw new Error(
        `${entry.name}: ${left[0]} has no local value (the stand-in plays the Redis instance's host, port, CA certificates and AUTH string, or the cluster's discovery endpoint and CA certificates)`,
      );
    }
    resolved[entry.name] = text;
  }
  return resolved;
}

type Evaluate = (expression: string) => string | string[] | undefined;

/** Evaluates the few Terraform expressions the stacks use between them; undefined for any other. */
function evaluator(foundation: TerraformJson, standIn: MemorystoreValues): Evaluate {
  const attributes: Record<string, string | string[]> = {};
  for (const name of Object.keys(foundation.resource?.google_redis_instance ?? {})) {
    const redis = `google_redis_instance.${name}`;
    attributes[`${redis}.host`] = standIn.host;
    attributes[`${redis}.port`] = String(standIn.port);
    attributes[`${redis}.server_ca_certs[*].cert`] = standIn.caCertificates;
    if (standIn.authString !== undefined) attributes[`${redis}.auth_string`] = standIn.authString;
  }
  for (const name of Object.keys(foundation.resource?.google_redis_cluster ?? {})) {
    const cluster = `google_redis_cluster.${name}`;
    attributes[`${cluster}.discovery_endpoints[0].address`] = standIn.host;
    attributes[`${cluster}.discovery_endpoints[0].port`] = String(standIn.port);
    // One CA chain of one certificate here; Memorystore's chains are lists of certificates, from leaf to root.
    attributes[`${cluster}.managed_server_ca[0].ca_certs[*].certificates`] = standIn.caCertificates;
  }
  const evaluate: Evaluate = (expression) => {
    const join = /^join\("\\n", (.+)\)$/.exec(expression);
    if (join) {
      const list = evaluate(join[1]!);
      return Array.isArray(list) ? list.join("\n") : undefined;
    }
    const flatten = /^flatten\((.+)\)$/.exec(expression);
    if (flatten) {
      const list = evaluate(flatten[1]!);
      return Array.isArray(list) ? list.flat() : undefined;
    }
    const remote = /^data\.terraform_remote_state\.[\w-]+\.outputs\.([\w-]+)$/.exec(expression);
    if (remote) {
      const output = foundation.output?.[remote[1]!]?.value;
      const inner = typeof output === "string" ? /^\$\{(.*)\}$/.exec(output)?.[1] : undefined;
      return inner === undefined ? undefined : evaluate(inner);
    }
    return attributes[expression];
  };
  return evaluate;
}

/**
 * A secret environment variable's value, as an expression: the secret and version references must lead to one secret
 * version of the foundation, of that secret; what that version holds is then evaluated like any other value.
 */
function secretValue(foundation: TerraformJson, ref: { secret: string; version: string }): string {
  const target = (reference: string) => {
    const remote = /^\$\{data\.terraform_remote_state\.[\w-]+\.outputs\.([\w-]+)\}$/.exec(reference);
    return remote ? foundation.output?.[remote[1]!]?.value : undefined;
  };
  const secret = /^\$\{(google_secret_manager_secret\.[\w-]+)\.secret_id\}$/.exec(String(target(ref.secret)))?.[1];
  const version = /^\$\{google_secret_manager_secret_version\.([\w-]+)\.version\}$/.exec(
    String(target(ref.version)),
  )?.[1];
  const versionBody =
    version === undefined ? undefined : foundation.resource?.google_secret_manager_secret_version?.[version];
  if (!secret || !versionBody || versionBody.secret !== `\${${secret}.id}`) {
    throw new Error(
      `a secret reference that does not lead to a version of its own secret in the foundation: ${JSON.stringify(ref)}`,
    );
  }
  return String(versionBody.secret_data);
}
