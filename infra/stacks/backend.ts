import { GcsBackend, LocalBackend, type TerraformStack } from "cdktf";

/** Props of {@link configureStateBackend}. */
export interface StateBackendProps {
  /** Existing GCS bucket for state; when undefined, state is a local file. */
  readonly bucket: string | undefined;
  /** Object prefix inside the bucket; the stack's state lives under `${prefix}/${stateName}`. */
  readonly prefix: string;
  /** Unique name of this stack's state, e.g. `whiteboard-dev-foundation`. */
  readonly stateName: string;
  /**
   * Repository root relative to the directory Terraform runs in (`cdktf.out/stacks/<stack>`). The local state file
   * is `${rootFromStackDir}/terraform.${stateName}.tfstate`: a relative path (the default local backend would write
   * an absolute one), identical from every stack directory, so cross-stack `terraform_remote_state` finds it too.
   */
  readonly rootFromStackDir: string;
}

/** Configures the stack's backend explicitly: GCS when a bucket is given, otherwise a local file at a relative path. */
export function configureStateBackend(stack: TerraformStack, props: StateBackendProps): void {
  if (props.bucket !== undefined) {
    new GcsBackend(stack, { bucket: props.bucket, prefix: `${props.prefix}/${props.stateName}` });
  } else {
    new LocalBackend(stack, { path: `${props.rootFromStackDir}/terraform.${props.stateName}.tfstate` });
  }
}
