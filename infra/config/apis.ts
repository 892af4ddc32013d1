/**
 * The Google APIs an environment uses. Pure (no cdktf), so infra/scripts/settings.ts can list them for the bootstrap
 * and the preflight without loading the stacks.
 */
import type { InfraConfig } from "./schema";

/** APIs the environment uses, sorted: enabled by `make infra-bootstrap` and declared by the foundation stack. */
export function requiredApis(
  config: Pick<InfraConfig, "network" | "service"> & { redis?: Pick<InfraConfig["redis"], "engine"> },
): string[] {
  const apis = [
    "artifactregistry.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "compute.googleapis.com",
    "iam.googleapis.com",
    // Dashboard, alert policies, uptime check, notification channels; the sidecar writes metrics through it.
    "monitoring.googleapis.com",
    // The log-based metric of error entries.
    "logging.googleapis.com",
    "redis.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
  ];
  if (config.network.egress === "connector") apis.push("vpcaccess.googleapis.com");
  // The cluster's Private Service Connect endpoints come from a service connection policy; Memorystore for Redis
  // Cluster's "Create instances" page lists the Service Consumer Management API as required too.
  if (config.redis?.engine === "memorystore-redis-cluster") {
    apis.push("networkconnectivity.googleapis.com", "serviceconsumermanagement.googleapis.com");
  }
  if (config.service.image === undefined) apis.push("cloudbuild.googleapis.com", "storage.googleapis.com");
  return apis.sort();
}
