import type { Construct } from "constructs";
import { TerraformProvider } from "cdktf";

/** Version of hashicorp/google-beta used next to hashicorp/google 6.50.0 (the prebuilt bindings' version). */
const GOOGLE_BETA_VERSION = "6.50.0";

/** Props of {@link GoogleBetaProvider}. */
export interface GoogleBetaProviderProps {
  /** Default project. */
  readonly project: string;
  /** Default region. */
  readonly region: string;
  /** Labels added to every labelled resource (`default_labels`), written verbatim. */
  readonly defaultLabels: Readonly<Record<string, string>>;
}

/**
 * The `google-beta` provider (hashicorp/google-beta, same version as hashicorp/google), declared without prebuilt
 * bindings: resources use the GA bindings' classes with `provider` set to it, and a Beta-only argument added as an
 * override. Its arguments are the `google` provider's ("accepts the same arguments as the google provider block",
 * provider_versions guide). Added to a stack only when a Beta field is configured, so Terraform downloads the plugin
 * only then.
 */
export class GoogleBetaProvider extends TerraformProvider {
  private readonly props: GoogleBetaProviderProps;

  constructor(scope: Construct, id: string, props: GoogleBetaProviderProps) {
    super(scope, id, {
      terraformResourceType: "google-beta",
      terraformGeneratorMetadata: { providerName: "google-beta", providerVersion: GOOGLE_BETA_VERSION },
      terraformProviderSource: "google-beta",
    });
    this.props = props;
    // An override, as for the google provider: cdktf would snake-case the label keys of a synthesized attribute.
    this.addOverride("default_labels", { ...props.defaultLabels });
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { project: this.props.project, region: this.props.region };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return {
      project: { value: this.props.project, type: "simple", storageClassType: "string" },
      region: { value: this.props.region, type: "simple", storageClassType: "string" },
    };
  }
}
