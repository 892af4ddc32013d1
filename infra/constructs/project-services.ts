import { Construct } from "constructs";
import { ProjectService } from "@cdktf/provider-google/lib/project-service";

/** Props of {@link ProjectServices}. */
export interface ProjectServicesProps {
  /** Project to enable the APIs in. */
  readonly projectId: string;
  /** API service names, e.g. `run.googleapis.com`. Duplicates are ignored; the order does not matter. */
  readonly services: readonly string[];
}

/**
 * Enables Google APIs. They are never disabled on destroy (`disable_on_destroy = false`): other workloads of the
 * project may use them, and disabling an API can take minutes and fail while resources still exist.
 */
export class ProjectServices extends Construct {
  private readonly byName = new Map<string, ProjectService>();

  constructor(scope: Construct, id: string, props: ProjectServicesProps) {
    super(scope, id);
    for (const service of [...new Set(props.services)].sort()) {
      const resourceId = service.replace(/\.googleapis\.com$/, "").replace(/[^a-z0-9]/g, "-");
      this.byName.set(
        service,
        new ProjectService(this, resourceId, { project: props.projectId, service, disableOnDestroy: false }),
      );
    }
  }

  /** The resource enabling `service`; throws if the service was not requested (a wiring bug). */
  service(service: string): ProjectService {
    const resource = this.byName.get(service);
    if (!resource) throw new Error(`API ${service} is not enabled by this stack`);
    return resource;
  }

  /** All API resources, to depend on every one of them. */
  get all(): ProjectService[] {
    return [...this.byName.values()];
  }
}
