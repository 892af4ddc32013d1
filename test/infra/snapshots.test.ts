/**
 * Snapshots of every stack for the four reference configurations, plus the two properties snapshots rely on:
 * the output holds no absolute path and is byte-identical from one synth to the next.
 */
import * as os from "node:os";
import * as path from "node:path";
import { type InfraConfigInput, parseInfraConfig } from "../../infra/config/schema";
import { BASE_INPUT, FIXTURE_CONTEXT, synthesize } from "./helpers";

const CONFIGURATIONS: Record<string, InfraConfigInput> = {
  "default dev": { ...BASE_INPUT },
  "prod (HA)": { ...BASE_INPUT, environment: "prod" },
  // Cloud Armor by prod's default; the run.app URL off (the service through google-beta).
  "with load balancer": {
    ...BASE_INPUT,
    environment: "prod",
    service: { defaultUriDisabled: true },
    loadBalancer: { domains: ["board.example.com", "www.board.example.com"] },
  },
  "with Direct VPC egress": { ...BASE_INPUT, network: { egress: "direct" } },
  // Memorystore for Redis Cluster: PSC subnet and policy, IAM authentication, the service's REDIS_CLUSTER.
  "prod on Memorystore for Redis Cluster": {
    ...BASE_INPUT,
    environment: "prod",
    redis: { engine: "memorystore-redis-cluster" },
  },
};

describe.each(Object.entries(CONFIGURATIONS))("%s", (_name, input) => {
  const first = synthesize(input);

  test("synthesizes a foundation and an app stack", () => {
    const environment = input.environment ?? "dev";
    expect(Object.keys(first)).toEqual([`${environment}-app`, `${environment}-foundation`]);
  });

  test.each(["foundation", "app"])("%s stack matches its snapshot", (kind) => {
    const id = `${input.environment ?? "dev"}-${kind}`;
    expect(first[id]?.text).toMatchSnapshot();
  });

  test("a second synth is byte-identical", () => {
    const second = synthesize(input);
    for (const id of Object.keys(first)) expect(second[id]?.text).toBe(first[id]?.text);
  });

  test("no absolute path reaches the output", () => {
    const forbidden = [
      process.cwd(),
      os.tmpdir(),
      os.homedir(),
      path.resolve(FIXTURE_CONTEXT),
      "/home/",
      "/Users/",
      "/work/",
      "/tmp/",
      ":\\\\",
    ];
    for (const { text, json } of Object.values(first)) {
      for (const needle of forbidden) expect(text).not.toContain(needle);
      // Every file system path Terraform will use is relative to the stack's working directory.
      const paths = [
        ...Object.values((json.terraform?.backend as Record<string, { path?: string }> | undefined) ?? {}).map(
          (b) => b.path,
        ),
        ...Object.values(json.data?.terraform_remote_state ?? {}).map((d) => (d.config as { path?: string }).path),
        ...Object.values(json.resource?.terraform_data ?? {}).flatMap((r) =>
          (r.provisioner as Array<{ "local-exec": { working_dir: string } }>).map((p) => p["local-exec"].working_dir),
        ),
      ].filter((value): value is string => value !== undefined);
      // Local state (no bucket; prod's default is a bucket) is written as a path relative to the stack.
      if (parseInfraConfig(input).state.bucket === undefined) expect(paths.length).toBeGreaterThan(0);
      for (const value of paths) expect(value).toMatch(/^\.\.\//);
    }
  });
});
