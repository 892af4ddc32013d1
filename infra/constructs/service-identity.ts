import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { ProjectIamMember } from "@cdktf/provider-google/lib/project-iam-member";
import { SecretManagerSecretIamMember } from "@cdktf/provider-google/lib/secret-manager-secret-iam-member";
import { ServiceAccount } from "@cdktf/provider-google/lib/service-account";

/** Props of {@link ServiceIdentity}. */
export interface ServiceIdentityProps {
  /** Project of the account and the grants. */
  readonly projectId: string;
  /** Account id, 6 to 30 characters, e.g. `whiteboard-dev-run`. */
  readonly accountId: string;
  /** Full ids (`projects/<p>/secrets/<s>`) of the secrets the service may read. */
  readonly readableSecretIds: readonly string[];
  /** Grant `roles/monitoring.metricWriter`, which the Prometheus sidecar (running as this account) needs. @default false */
  readonly writesMetrics?: boolean;
  /** Grant `roles/redis.dbConnectionUser` (IAM authentication to Memorystore for Redis Cluster). @default false */
  readonly connectsToRedisCluster?: boolean;
  /** Resources (API enablement) to wait for. @default [] */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * The Cloud Run service's own identity, with only what it needs: `roles/secretmanager.secretAccessor` on its own
 * secrets (not project-wide) and, with the metrics sidecar, `roles/monitoring.metricWriter` (the sidecar runs as the
 * service's account and writes the metrics to Cloud Monitoring). No `roles/logging.logWriter`: the service logs to
 * stdout, which Cloud Run itself sends to Cloud Logging; nothing in the instance calls the Logging API. Pulling the
 * image from the same project's registry is done by the Cloud Run service agent, not by this account.
 */
export class ServiceIdentity extends Construct {
  /** The service account. */
  readonly account: ServiceAccount;
  /** `serviceAccount:<email>`. */
  readonly member: string;

  constructor(scope: Construct, id: string, props: ServiceIdentityProps) {
    super(scope, id);
    this.account = new ServiceAccount(this, "account", {
      project: props.projectId,
      accountId: props.accountId,
      displayName: "Cloud Run runtime of the whiteboard",
      dependsOn: props.dependsOn,
    });
    this.member = `serviceAccount:${this.account.email}`;
    props.readableSecretIds.forEach((secretId, index) => {
      new SecretManagerSecretIamMember(this, `secret-access-${index}`, {
        project: props.projectId,
        secretId,
        role: "roles/secretmanager.secretAccessor",
        member: this.member,
      });
    });
    if (props.connectsToRedisCluster) {
      // redis.clusters.connect, which IAM authentication checks at each AUTH. Project-wide: provider 6.50.0 has no
      // IAM resource for one cluster (Google's documentation grants it on the project by default).
      new ProjectIamMember(this, "redis-connect", {
        project: props.projectId,
        role: "roles/redis.dbConnectionUser",
        member: this.member,
      });
    }
    if (props.writesMetrics) {
      new ProjectIamMember(this, "metric-writer", {
        project: props.projectId,
        role: "roles/monitoring.metricWriter",
        member: this.member,
      });
    }
  }

  /** Email of the account. */
  get email(): string {
    return this.account.email;
  }
}
