import type { Construct } from "constructs";
import {
  TerraformResource,
  anyToHclTerraform,
  anyToTerraform,
  hashMapper,
  hashMapperHcl,
  type TerraformMetaArguments,
} from "cdktf";

/** Props of {@link TerraformData}. */
export interface TerraformDataProps extends TerraformMetaArguments {
  /** Stored in state and echoed as `output`. @default none */
  readonly input?: Record<string, string>;
  /** Replaces the resource (re-running its create-time provisioners) whenever any value changes. @default none */
  readonly triggersReplace?: Record<string, string>;
}

/**
 * Terraform's built-in `terraform_data` resource (Terraform 1.4+, no provider plugin).
 *
 * cdktf's own `DataResource` synthesizes the same JSON but adds a validation that runs `terraform version` in a
 * child process on every synth: that needs Terraform on the synthesizing machine and costs 0.2 to 1 s per synth.
 * The Terraform version is checked once, before deploy, by infra/scripts/preflight.sh instead.
 */
export class TerraformData extends TerraformResource {
  private readonly input?: Record<string, string>;
  private readonly triggersReplace?: Record<string, string>;

  constructor(scope: Construct, id: string, props: TerraformDataProps = {}) {
    super(scope, id, {
      terraformResourceType: "terraform_data",
      terraformGeneratorMetadata: { providerName: "terraform" },
      dependsOn: props.dependsOn,
      lifecycle: props.lifecycle,
      provisioners: props.provisioners,
    });
    this.input = props.input;
    this.triggersReplace = props.triggersReplace;
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return {
      input: hashMapper(anyToTerraform)(this.input),
      triggers_replace: hashMapper(anyToTerraform)(this.triggersReplace),
    };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return {
      input: hashMapperHcl(anyToHclTerraform)(this.input),
      triggers_replace: hashMapperHcl(anyToHclTerraform)(this.triggersReplace),
    };
  }
}
