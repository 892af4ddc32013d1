import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { ArtifactRegistryRepository } from "@cdktf/provider-google/lib/artifact-registry-repository";
import { ArtifactRegistryRepositoryIamMember } from "@cdktf/provider-google/lib/artifact-registry-repository-iam-member";
import { ProjectIamMember } from "@cdktf/provider-google/lib/project-iam-member";
import { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import { StorageBucket } from "@cdktf/provider-google/lib/storage-bucket";
import { StorageBucketIamMember } from "@cdktf/provider-google/lib/storage-bucket-iam-member";

/** Props of {@link ImageRegistry}. */
export interface ImageRegistryProps {
  /** Project of the repository. */
  readonly projectId: string;
  /** Region of the repository and of the staging bucket. */
  readonly region: string;
  /** Repository id; also the base of the build service account and staging bucket names. */
  readonly baseName: string;
  /** How many most recent image versions the cleanup policy keeps (older ones are deleted after 30 days), 1 to 100. */
  readonly keepRecentImages: number;
  /**
   * Also create what Cloud Build needs: a dedicated build service account (push to this repository, write logs) and
   * a staging bucket for sources and logs that `make destroy` removes with its content.
   */
  readonly withBuild: boolean;
  /** Resources (API enablement) to wait for. @default [] */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * An Artifact Registry Docker repository for the service image and, optionally, the least-privilege identity and
 * bucket Cloud Build uses. A user-chosen build service account needs its logs in a user bucket (or Cloud Logging
 * only); the bucket holds both the uploaded sources and the logs, so nothing lands in a `<project>_cloudbuild`
 * bucket that `make destroy` would leave behind.
 */
export class ImageRegistry extends Construct {
  /** The repository. */
  readonly repository: ArtifactRegistryRepository;
  /** `<region>-docker.pkg.dev/<project>/<repository>`: prefix of image names (plain string, known at synth). */
  readonly repositoryUrl: string;
  /** Email of the Cloud Build service account, when `withBuild`. */
  readonly buildServiceAccountEmail?: string;
  /** Name of the staging bucket, when `withBuild`. */
  readonly stagingBucketName?: string;

  constructor(scope: Construct, id: string, props: ImageRegistryProps) {
    super(scope, id);
    const dependsOn = props.dependsOn ?? [];
    this.repository = new ArtifactRegistryRepository(this, "repository", {
      project: props.projectId,
      location: props.region,
      repositoryId: props.baseName,
      format: "DOCKER",
      description: "Images of the whiteboard service",
      cleanupPolicyDryRun: false,
      cleanupPolicies: [
        { id: "delete-older-than-30-days", action: "DELETE", condition: { tagState: "ANY", olderThan: "30d" } },
        { id: "keep-most-recent", action: "KEEP", mostRecentVersions: { keepCount: props.keepRecentImages } },
      ],
      dependsOn,
    });
    this.repositoryUrl = `${props.region}-docker.pkg.dev/${props.projectId}/${props.baseName}`;

    if (!props.withBuild) return;

    const account = new ServiceAccount(this, "build-sa", {
      project: props.projectId,
      accountId: `${props.baseName}-build`,
      displayName: `Cloud Build for ${props.baseName}`,
      dependsOn,
    });
    this.buildServiceAccountEmail = `${props.baseName}-build@${props.projectId}.iam.gserviceaccount.com`;
    const member = `serviceAccount:${account.email}`;

    const bucket = new StorageBucket(this, "staging", {
      project: props.projectId,
      name: `${props.projectId}-${props.baseName}-build`,
      location: props.region.toUpperCase(),
      uniformBucketLevelAccess: true,
      publicAccessPrevention: "enforced",
      forceDestroy: true,
      softDeletePolicy: { retentionDurationSeconds: 0 },
      lifecycleRule: [{ condition: { age: 7 }, action: { type: "Delete" } }],
      dependsOn,
    });
    this.stagingBucketName = `${props.projectId}-${props.baseName}-build`;

    new ArtifactRegistryRepositoryIamMember(this, "build-push", {
      project: props.projectId,
      location: props.region,
      repository: this.repository.name,
      role: "roles/artifactregistry.writer",
      member,
    });
    new StorageBucketIamMember(this, "build-staging", {
      bucket: bucket.name,
      role: "roles/storage.objectAdmin",
      member,
    });
    new ProjectIamMember(this, "build-logs", {
      project: props.projectId,
      role: "roles/logging.logWriter",
      member,
    });
  }
}
