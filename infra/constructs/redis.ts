import { Construct } from "constructs";
import { Fn, Token, type ITerraformDependable } from "cdktf";
import { RedisInstance } from "@cdktf/provider-google/lib/redis-instance";
import { SecretManagerSecret } from "@cdktf/provider-google/lib/secret-manager-secret";
import { SecretManagerSecretVersion } from "@cdktf/provider-google/lib/secret-manager-secret-version";

/**
 * `maxmemory-gb` for `percent` of `memorySizeGb`, rounded down to a tenth of a GB, as the decimal string Memorystore
 * takes ("0.8", "240"). Integer arithmetic, so no binary-fraction noise reaches the value.
 */
export function maxmemoryGb(memorySizeGb: number, percent: number): string {
  const tenths = Math.floor((memorySizeGb * percent) / 10);
  return tenths % 10 === 0 ? String(tenths / 10) : `${Math.floor(tenths / 10)}.${tenths % 10}`;
}

/** Props of {@link Redis}. */
export interface RedisProps {
  /** Project of the instance and the secret. */
  readonly projectId: string;
  /** Region of the instance. */
  readonly region: string;
  /** Instance name (`${baseName}-redis`) and secret id (`${baseName}-redis-auth`) derive from it. */
  readonly baseName: string;
  /** Self link or id of the VPC the instance is reachable from (direct peering); no other network can reach it. */
  readonly authorizedNetwork: string;
  /** `BASIC` or `STANDARD_HA`. */
  readonly tier: "BASIC" | "STANDARD_HA";
  /** Capacity in GiB, 1 to 300. */
  readonly memorySizeGb: number;
  /** Redis version, e.g. `REDIS_7_2`. */
  readonly version: string;
  /** The /29 the instance takes its addresses from. */
  readonly reservedIpRange: string;
  /** `RDB` or `DISABLED`. */
  readonly persistence: "RDB" | "DISABLED";
  /** RDB snapshot period when `persistence` is `RDB`. */
  readonly rdbSnapshotPeriod: string;
  /**
   * `maxmemory-gb` as a percentage of `memorySizeGb`, 20 to 100, rounded down to 0.1 GB; 100 sets nothing
   * (Memorystore's default is the capacity).
   * @default 100
   */
  readonly maxmemoryPercent?: number;
  /** Weekly one-hour maintenance window starting at `startHour`:00 UTC, or none to let Google pick. @default none */
  readonly maintenanceWindow?: { readonly day: string; readonly startHour: number } | null;
  /** Refuse `terraform destroy` of the instance (lifecycle prevent_destroy). The secret follows the same flag. */
  readonly deletionProtection: boolean;
  /** Resources (API enablement) to wait for. @default [] */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Memorystore for Redis with AUTH and in-transit encryption (server authentication), private to one VPC, and its
 * AUTH string stored in Secret Manager.
 *
 * The service needs four values: `host`, `port` (the instance attribute; never assume 6379: with TLS it is 6378),
 * `caCertificates` (every current server CA, PEM, concatenated, so a CA rotation does not break clients that
 * re-read it) and the secret holding the AUTH string.
 */
export class Redis extends Construct {
  /** The instance. */
  readonly instance: RedisInstance;
  /** Secret holding the AUTH string. */
  readonly authSecret: SecretManagerSecret;
  /** Version of the secret holding the current AUTH string. */
  readonly authSecretVersion: SecretManagerSecretVersion;

  constructor(scope: Construct, id: string, props: RedisProps) {
    super(scope, id);
    const dependsOn = props.dependsOn ?? [];
    const percent = props.maxmemoryPercent ?? 100;
    if (!Number.isInteger(percent) || percent < 20 || percent > 100) {
      throw new Error(
        `Redis: maxmemoryPercent must be an integer from 20 to 100 (Memorystore's lower bound is 20% of capacity); got ${percent}`,
      );
    }
    const window = props.maintenanceWindow ?? undefined;
    if (window && (!Number.isInteger(window.startHour) || window.startHour < 0 || window.startHour > 23)) {
      throw new Error(`Redis: maintenanceWindow.startHour must be an integer from 0 to 23; got ${window.startHour}`);
    }
    this.instance = new RedisInstance(this, "instance", {
      project: props.projectId,
      region: props.region,
      name: `${props.baseName}-redis`,
      displayName: `${props.baseName} whiteboard state`,
      tier: props.tier,
      memorySizeGb: props.memorySizeGb,
      redisVersion: props.version,
      connectMode: "DIRECT_PEERING",
      authorizedNetwork: props.authorizedNetwork,
      reservedIpRange: props.reservedIpRange,
      authEnabled: true,
      transitEncryptionMode: "SERVER_AUTHENTICATION",
      // Every board key has an idle TTL, so Memorystore's default policy (volatile-lru) would evict boards, or
      // half a board, under memory pressure. With noeviction a full Redis refuses writes instead: the service
      // answers "unavailable" and clients keep the stroke and retry; nothing stored is ever dropped silently.
      redisConfigs: {
        "maxmemory-policy": "noeviction",
        // Room for replication (failover, scaling, upgrades) and the fork of RDB snapshots: Memorystore advises
        // 80% of the capacity during these operations; kept permanently, because a failover is not scheduled.
        ...(percent < 100 ? { "maxmemory-gb": maxmemoryGb(props.memorySizeGb, percent) } : {}),
      },
      ...(window
        ? {
            maintenancePolicy: {
              weeklyMaintenanceWindow: [
                { day: window.day, startTime: { hours: window.startHour, minutes: 0, seconds: 0, nanos: 0 } },
              ],
            },
          }
        : {}),
      persistenceConfig:
        props.persistence === "RDB"
          ? { persistenceMode: "RDB", rdbSnapshotPeriod: props.rdbSnapshotPeriod }
          : { persistenceMode: "DISABLED" },
      lifecycle: { preventDestroy: props.deletionProtection },
      dependsOn,
    });
    this.authSecret = new SecretManagerSecret(this, "auth-secret", {
      project: props.projectId,
      secretId: `${props.baseName}-redis-auth`,
      replication: { auto: {} },
      deletionProtection: props.deletionProtection,
      dependsOn,
    });
    this.authSecretVersion = new SecretManagerSecretVersion(this, "auth-secret-version", {
      secret: this.authSecret.id,
      secretData: this.instance.authString,
    });
  }

  /** Redis host (IP address). */
  get host(): string {
    return this.instance.host;
  }

  /** Redis port, from the instance (TLS instances listen on 6378). */
  get port(): number {
    return this.instance.port;
  }

  /** Every server CA certificate of the instance, PEM, joined by newlines. */
  get caCertificates(): string {
    return Fn.join("\n", Token.asList(this.instance.interpolationForAttribute("server_ca_certs[*].cert")));
  }
}
