import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { ComputeNetwork } from "@cdktf/provider-google/lib/compute-network";
import { ComputeSubnetwork } from "@cdktf/provider-google/lib/compute-subnetwork";
import { VpcAccessConnector } from "@cdktf/provider-google/lib/vpc-access-connector";

/** Props of {@link Network}. */
export interface NetworkProps {
  /** Project of the network. */
  readonly projectId: string;
  /** Region of the connector and subnet. */
  readonly region: string;
  /** Base of resource names: the VPC is `${baseName}-vpc`, the subnet `${baseName}-run`. */
  readonly baseName: string;
  /** How Cloud Run reaches the VPC: `connector` creates a Serverless VPC Access connector, `direct` a subnet. */
  readonly egress: "connector" | "direct";
  /** Connector name, at most 25 characters (`^[a-z][-a-z0-9]{0,23}[a-z0-9]$`). Used when `egress` is `connector`. */
  readonly connectorName: string;
  /** The connector's own /28, used by nothing else. */
  readonly connectorCidr: string;
  /** Connector minimum instances, 2 to 9. */
  readonly connectorMinInstances: number;
  /** Connector maximum instances, 3 to 10, above the minimum. */
  readonly connectorMaxInstances: number;
  /** Connector machine type. */
  readonly connectorMachineType: string;
  /** Range of the Direct VPC egress subnet, /26 or larger. Used when `egress` is `direct`. */
  readonly subnetCidr: string;
  /** Resources (API enablement) every resource here waits for. @default [] */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * A custom-mode VPC plus the way Cloud Run enters it: a Serverless VPC Access connector on its own /28 (default) or a
 * subnet for Direct VPC egress. Memorystore peers with this VPC, so nothing else needs a route or firewall rule.
 */
export class Network extends Construct {
  /** The VPC. */
  readonly vpc: ComputeNetwork;
  /** The connector when `egress` is `connector`. */
  readonly connector?: VpcAccessConnector;
  /** The subnet when `egress` is `direct`. */
  readonly subnet?: ComputeSubnetwork;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    if (props.egress === "connector" && !/^[a-z][-a-z0-9]{0,23}[a-z0-9]$/.test(props.connectorName)) {
      throw new Error(
        `Network: connector name "${props.connectorName}" must match ^[a-z][-a-z0-9]{0,23}[a-z0-9]$ (at most 25 characters)`,
      );
    }
    const dependsOn = props.dependsOn ?? [];
    this.vpc = new ComputeNetwork(this, "vpc", {
      project: props.projectId,
      name: `${props.baseName}-vpc`,
      autoCreateSubnetworks: false,
      routingMode: "REGIONAL",
      dependsOn,
    });
    if (props.egress === "connector") {
      // min/max instances, not throughput: the API now requires max_instances or max_throughput, and the provider
      // docs discourage throughput.
      this.connector = new VpcAccessConnector(this, "connector", {
        project: props.projectId,
        region: props.region,
        name: props.connectorName,
        network: this.vpc.name,
        ipCidrRange: props.connectorCidr,
        machineType: props.connectorMachineType,
        minInstances: props.connectorMinInstances,
        maxInstances: props.connectorMaxInstances,
        dependsOn,
      });
    } else {
      this.subnet = new ComputeSubnetwork(this, "run-subnet", {
        project: props.projectId,
        region: props.region,
        name: `${props.baseName}-run`,
        network: this.vpc.id,
        ipCidrRange: props.subnetCidr,
        privateIpGoogleAccess: true,
        dependsOn,
      });
    }
  }
}
