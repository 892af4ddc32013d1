import { createHash } from "node:crypto";
import { Construct } from "constructs";
import { ComputeBackendService } from "@cdktf/provider-google/lib/compute-backend-service";
import { ComputeGlobalAddress } from "@cdktf/provider-google/lib/compute-global-address";
import { ComputeGlobalForwardingRule } from "@cdktf/provider-google/lib/compute-global-forwarding-rule";
import { ComputeManagedSslCertificate } from "@cdktf/provider-google/lib/compute-managed-ssl-certificate";
import { ComputeRegionNetworkEndpointGroup } from "@cdktf/provider-google/lib/compute-region-network-endpoint-group";
import { ComputeSecurityPolicy } from "@cdktf/provider-google/lib/compute-security-policy";
import { ComputeSslPolicy } from "@cdktf/provider-google/lib/compute-ssl-policy";
import { ComputeTargetHttpProxy } from "@cdktf/provider-google/lib/compute-target-http-proxy";
import { ComputeTargetHttpsProxy } from "@cdktf/provider-google/lib/compute-target-https-proxy";
import { ComputeUrlMap } from "@cdktf/provider-google/lib/compute-url-map";

/** Per-client rate limit enforced by Cloud Armor. */
interface RateLimit {
  /** Requests allowed per client IP per interval; more get HTTP 429. */
  readonly requestsPerInterval: number;
  /** Interval in seconds (10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700 or 3600). */
  readonly intervalSeconds: number;
}

/** Props of {@link LoadBalancer}. */
export interface LoadBalancerProps {
  /** Project of every piece. */
  readonly projectId: string;
  /** Region of the Cloud Run service (and of its serverless NEG). */
  readonly region: string;
  /** Base of every resource name. */
  readonly baseName: string;
  /** Name of the Cloud Run service behind the load balancer. */
  readonly cloudRunServiceName: string;
  /** Domains of the Google-managed certificate, 1 to 100. Their DNS A records must point at `address`. */
  readonly domains: readonly string[];
  /** When given, a Cloud Armor policy throttles each client IP to this rate. @default no policy */
  readonly rateLimit?: RateLimit;
}

/**
 * Global external Application Load Balancer (EXTERNAL_MANAGED) in front of Cloud Run: global address, serverless
 * NEG, backend service, URL map, Google-managed certificate, HTTPS proxy and forwarding rule on 443, plus an HTTP
 * proxy and forwarding rule on 80 that only redirect to HTTPS. WebSockets work through it unchanged.
 *
 * Deliberately absent, per the API rules for serverless NEGs: `timeout_sec` (rejected; Cloud Run's own request
 * timeout applies), health checks (not allowed) and load-balancer session affinity (Cloud Run's own affinity still
 * works behind the load balancer).
 */
export class LoadBalancer extends Construct {
  /** The reserved global IPv4 address. */
  readonly address: ComputeGlobalAddress;
  /** The backend service. */
  readonly backendService: ComputeBackendService;
  /** TLS policy of the HTTPS proxy: MODERN profile, TLS 1.2 minimum. */
  readonly sslPolicy: ComputeSslPolicy;
  /** The Cloud Armor policy, when a rate limit is given. */
  readonly securityPolicy?: ComputeSecurityPolicy;
  /** https://<first domain>. */
  readonly url: string;
  /** Name of the URL map of the HTTPS rule (what the load balancer's metrics are labelled with). */
  readonly urlMapName: string;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    if (props.domains.length === 0 || props.domains.length > 100) {
      throw new Error("LoadBalancer: domains must hold 1 to 100 names");
    }
    const project = props.projectId;
    const name = props.baseName;
    this.urlMapName = `${name}-url-map`;

    this.address = new ComputeGlobalAddress(this, "address", {
      project,
      name: `${name}-lb-ip`,
      addressType: "EXTERNAL",
      ipVersion: "IPV4",
    });

    const neg = new ComputeRegionNetworkEndpointGroup(this, "neg", {
      project,
      region: props.region,
      name: `${name}-neg`,
      networkEndpointType: "SERVERLESS",
      cloudRun: { service: props.cloudRunServiceName },
    });

    if (props.rateLimit) {
      this.securityPolicy = new ComputeSecurityPolicy(this, "armor", {
        project,
        name: `${name}-armor`,
        description: "Per-client-IP throttle for the whiteboard",
        type: "CLOUD_ARMOR",
        rule: [
          {
            priority: 1000,
            description: "Throttle each client IP",
            action: "throttle",
            match: { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } },
            rateLimitOptions: {
              conformAction: "allow",
              exceedAction: "deny(429)",
              enforceOnKey: "IP",
              rateLimitThreshold: {
                count: props.rateLimit.requestsPerInterval,
                intervalSec: props.rateLimit.intervalSeconds,
              },
            },
          },
          {
            priority: 2147483647,
            description: "Default rule",
            action: "allow",
            match: { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } },
          },
        ],
      });
    }

    // Only `group` on the backend and the default protocol, as in Google's serverless NEG guides: serverless NEGs
    // reject capacity settings, timeout_sec and health checks.
    this.backendService = new ComputeBackendService(this, "backend", {
      project,
      name: `${name}-backend`,
      loadBalancingScheme: "EXTERNAL_MANAGED",
      backend: [{ group: neg.id }],
      logConfig: { enable: true, sampleRate: 1 },
      ...(this.securityPolicy ? { securityPolicy: this.securityPolicy.id } : {}),
    });

    const urlMap = new ComputeUrlMap(this, "url-map", {
      project,
      name: this.urlMapName,
      defaultService: this.backendService.id,
    });

    // The certificate's name carries a hash of its domains: changing domains creates a new certificate before the
    // proxy lets go of the old one (create_before_destroy), instead of failing on a name still in use.
    const domainsHash = createHash("sha256")
      .update([...props.domains].join(","))
      .digest("hex")
      .slice(0, 8);
    const certificate = new ComputeManagedSslCertificate(this, "certificate", {
      project,
      name: `${name}-cert-${domainsHash}`,
      managed: { domains: [...props.domains] },
      lifecycle: { createBeforeDestroy: true },
    });

    // Without a policy the proxy uses Google's default SSL features, which still accept TLS 1.0 and 1.1. MODERN with
    // TLS 1.2 as the minimum keeps every current browser and drops TLS 1.0/1.1 and the weakest ciphers.
    this.sslPolicy = new ComputeSslPolicy(this, "ssl-policy", {
      project,
      name: `${name}-tls`,
      description: "TLS 1.2 or newer, MODERN cipher profile",
      profile: "MODERN",
      minTlsVersion: "TLS_1_2",
    });

    const httpsProxy = new ComputeTargetHttpsProxy(this, "https-proxy", {
      project,
      name: `${name}-https-proxy`,
      urlMap: urlMap.id,
      sslCertificates: [certificate.id],
      sslPolicy: this.sslPolicy.id,
    });

    new ComputeGlobalForwardingRule(this, "https-rule", {
      project,
      name: `${name}-https`,
      target: httpsProxy.id,
      ipAddress: this.address.id,
      ipProtocol: "TCP",
      portRange: "443",
      loadBalancingScheme: "EXTERNAL_MANAGED",
    });

    const redirect = new ComputeUrlMap(this, "http-redirect", {
      project,
      name: `${name}-http-redirect`,
      defaultUrlRedirect: { httpsRedirect: true, stripQuery: false, redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT" },
    });
    const httpProxy = new ComputeTargetHttpProxy(this, "http-proxy", {
      project,
      name: `${name}-http-proxy`,
      urlMap: redirect.id,
    });
    new ComputeGlobalForwardingRule(this, "http-rule", {
      project,
      name: `${name}-http`,
      target: httpProxy.id,
      ipAddress: this.address.id,
      ipProtocol: "TCP",
      portRange: "80",
      loadBalancingScheme: "EXTERNAL_MANAGED",
    });

    this.url = `https://${props.domains[0]}`;
  }
}
