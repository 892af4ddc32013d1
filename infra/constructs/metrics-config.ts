import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { SecretManagerSecret } from "@cdktf/provider-google/lib/secret-manager-secret";
import { SecretManagerSecretVersion } from "@cdktf/provider-google/lib/secret-manager-secret-version";

/** The port the service serves GET /metrics on inside the instance (its METRICS_PORT); the sidecar scrapes it. */
export const METRICS_PORT = 9464;

/** Where the Managed Service for Prometheus sidecar reads its configuration (its `userConfigFile`). */
export const SIDECAR_CONFIG_DIR = "/etc/rungmp/";
export const SIDECAR_CONFIG_FILE = "config.yaml";

/**
 * The sidecar's RunMonitoring configuration: scrape GET /metrics on the service's metrics port. Without one the
 * sidecar scrapes port 8080, which is the service's public port here, so the configuration is not optional. Target
 * labels keep the sidecar's default (instance, revision, service, configuration).
 */
export function runMonitoringYaml(scrapeIntervalSeconds: number): string {
  return [
    "apiVersion: monitoring.googleapis.com/v1beta",
    "kind: RunMonitoring",
    "metadata:",
    "  name: whiteboard",
    "spec:",
    "  endpoints:",
    `  - port: "${METRICS_PORT}"`,
    "    path: /metrics",
    `    interval: ${scrapeIntervalSeconds}s`,
    "",
  ].join("\n");
}

/** Props of {@link MetricsConfig}. */
export interface MetricsConfigProps {
  readonly projectId: string;
  /** `<prefix>-<env>`; the secret is `<base>-gmp-config`. */
  readonly baseName: string;
  /** How often the sidecar scrapes, in seconds. */
  readonly scrapeIntervalSeconds: number;
  /** Resources (API enablement) to wait for. @default [] */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * The Prometheus sidecar's configuration as a Secret Manager secret, which the service mounts as the file the sidecar
 * reads (Google's documented way to give the sidecar a custom configuration). Nothing in it is secret; it is a secret
 * because that is what a Cloud Run volume can carry. No deletion protection: destroy removes it, and a deploy
 * recreates it in a moment.
 */
export class MetricsConfig extends Construct {
  readonly secret: SecretManagerSecret;
  readonly version: SecretManagerSecretVersion;

  constructor(scope: Construct, id: string, props: MetricsConfigProps) {
    super(scope, id);
    this.secret = new SecretManagerSecret(this, "secret", {
      project: props.projectId,
      secretId: `${props.baseName}-gmp-config`,
      replication: { auto: {} },
      deletionProtection: false,
      dependsOn: props.dependsOn,
    });
    this.version = new SecretManagerSecretVersion(this, "version", {
      secret: this.secret.id,
      secretData: runMonitoringYaml(props.scrapeIntervalSeconds),
    });
  }
}
