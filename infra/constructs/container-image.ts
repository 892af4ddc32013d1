import { Construct } from "constructs";
import { TerraformData } from "./terraform-data";

/** How to build the image with Cloud Build. */
interface ImageBuildSource {
  /** Content hash of the build context (hex); its first 32 characters become the image tag. */
  readonly contentHash: string;
  /** Entries of the build context that exist, relative to the repository root (packed in this order). */
  readonly contextEntries: readonly string[];
  /** Folder names excluded at any depth when packing; must match what the hash skipped. */
  readonly excludedNames: readonly string[];
  /**
   * The repository root relative to the directory Terraform runs in (`cdktf.out/stacks/<stack>`), e.g. `../../..`.
   * Relative so the synthesized JSON holds no absolute path.
   */
  readonly rootFromStackDir: string;
  /** Project that runs the build. */
  readonly projectId: string;
  /** Cloud Build region. */
  readonly region: string;
  /** Email of the service account the build runs as. */
  readonly serviceAccountEmail: string;
  /** Bucket for uploaded sources and build logs. */
  readonly stagingBucket: string;
}

/** Props of {@link ContainerImage}. Give exactly one of `prebuiltImage` and `build`. */
export interface ContainerImageProps {
  /** An existing image to deploy as is; nothing is built. */
  readonly prebuiltImage?: string;
  /** `<region>-docker.pkg.dev/<project>/<repository>`; the image is `${repositoryUrl}/${imageName}:<hash>`. */
  readonly repositoryUrl?: string;
  /** Image name inside the repository. @default "whiteboard" */
  readonly imageName?: string;
  /** Build settings; required unless `prebuiltImage` is given. */
  readonly build?: ImageBuildSource;
}

/**
 * The service image. Either a prebuilt image, or this repository built by Cloud Build during `cdktf deploy`:
 * a `terraform_data` resource (built into Terraform, no provider plugin) whose `triggers_replace` is the image URI,
 * which ends in the content hash of the build context. An unchanged context keeps the same URI, so nothing is rebuilt
 * and Cloud Run sees no change; a changed one replaces the resource, whose create-time `local-exec` provisioner runs
 * `infra/image/build-image.sh`, and the new URI rolls out a new revision.
 */
export class ContainerImage extends Construct {
  /** Full image reference to deploy. */
  readonly imageUri: string;
  /** The build step when building; Cloud Run must depend on it. */
  readonly buildStep?: TerraformData;

  constructor(scope: Construct, id: string, props: ContainerImageProps) {
    super(scope, id);
    if (props.prebuiltImage !== undefined) {
      if (props.build !== undefined) throw new Error("ContainerImage: give prebuiltImage or build, not both");
      this.imageUri = props.prebuiltImage;
      return;
    }
    const build = props.build;
    if (build === undefined || props.repositoryUrl === undefined) {
      throw new Error("ContainerImage: build and repositoryUrl are required without prebuiltImage");
    }
    if (!/^[0-9a-f]{32,}$/.test(build.contentHash))
      throw new Error("ContainerImage: contentHash must be hex, at least 32 digits");
    if (build.rootFromStackDir.startsWith("/") || /^[A-Za-z]:/.test(build.rootFromStackDir)) {
      throw new Error("ContainerImage: rootFromStackDir must be relative");
    }
    if (!build.contextEntries.includes("Dockerfile")) {
      throw new Error("ContainerImage: the build context has no Dockerfile; add it or configure a prebuilt image");
    }
    this.imageUri = `${props.repositoryUrl}/${props.imageName ?? "whiteboard"}:${build.contentHash.slice(0, 32)}`;
    this.buildStep = new TerraformData(this, "build", {
      triggersReplace: { image: this.imageUri },
      input: { image: this.imageUri },
      provisioners: [
        {
          type: "local-exec",
          workingDir: build.rootFromStackDir,
          command: "bash infra/image/build-image.sh",
          environment: {
            IMAGE: this.imageUri,
            PROJECT_ID: build.projectId,
            REGION: build.region,
            BUILD_SERVICE_ACCOUNT: build.serviceAccountEmail,
            STAGING_BUCKET: build.stagingBucket,
            CONTEXT_ENTRIES: build.contextEntries.join(" "),
            EXCLUDED_NAMES: build.excludedNames.join(" "),
          },
        },
      ],
    });
  }
}
