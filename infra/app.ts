/**
 * Composes the stacks of every configured environment into an App. Used by infra/main.ts and by the tests.
 */
import type { App } from "cdktf";
import type { InfraConfig } from "./config/schema";
import { DEFAULT_CONTEXT_ENTRIES, EXCLUDED_DIRECTORY_NAMES, hashBuildContext } from "./image/content-hash";
import { AppStack, type ImageContext } from "./stacks/app-stack";
import { FoundationStack } from "./stacks/foundation-stack";

/** Options of {@link addWhiteboardStacks}. */
export interface WhiteboardStacksOptions {
  /** Validated configuration, one per environment (environments must differ). */
  readonly configs: readonly InfraConfig[];
  /**
   * Repository root relative to each stack's Terraform working directory (`<outdir>/stacks/<stack>`); written into
   * the local state path and the image build's working directory. `../../..` for the default `cdktf.out`.
   */
  readonly rootFromStackDir: string;
  /**
   * Directory whose content is hashed into the image tag (read at synth time, never written to the output). Needed
   * when any environment builds its image.
   */
  readonly buildContextDir?: string;
  /** Entries of the build context. @default DEFAULT_CONTEXT_ENTRIES */
  readonly contextEntries?: readonly string[];
}

/** The two stacks of one environment. */
export interface EnvironmentStacks {
  readonly foundation: FoundationStack;
  readonly app: AppStack;
}

/** Stack ids: `<environment>-foundation` and `<environment>-app`. */
export function stackIds(environment: string): { foundation: string; app: string } {
  return { foundation: `${environment}-foundation`, app: `${environment}-app` };
}

/** Adds a foundation and an app stack per configured environment. */
export function addWhiteboardStacks(app: App, options: WhiteboardStacksOptions): EnvironmentStacks[] {
  const root = options.rootFromStackDir;
  if (root.startsWith("/") || /^[A-Za-z]:/.test(root) || root.includes("\\")) {
    throw new Error(`rootFromStackDir must be a relative POSIX path (got "${root}")`);
  }
  const environments = options.configs.map((config) => config.environment);
  if (new Set(environments).size !== environments.length) {
    throw new Error(`each environment may be configured once (got ${environments.join(", ")})`);
  }

  let imageContext: ImageContext | undefined;
  if (options.configs.some((config) => config.service.image === undefined)) {
    if (options.buildContextDir === undefined) {
      throw new Error("buildContextDir is required when an environment builds its image (no service.image configured)");
    }
    const hashed = hashBuildContext(options.buildContextDir, options.contextEntries ?? DEFAULT_CONTEXT_ENTRIES);
    imageContext = { contentHash: hashed.sha256, entries: hashed.entries, excludedNames: EXCLUDED_DIRECTORY_NAMES };
  }

  return options.configs.map((config) => {
    const ids = stackIds(config.environment);
    const foundation = new FoundationStack(app, ids.foundation, { config, rootFromStackDir: root });
    const appStack = new AppStack(app, ids.app, {
      config,
      foundation,
      rootFromStackDir: root,
      ...(imageContext ? { imageContext } : {}),
    });
    return { foundation, app: appStack };
  });
}
