/**
 * One declaration per setting: its zod schema (type and bounds, with the message that names the rule), its default
 * (one value, one per environment, or derived from settings that are not derived themselves), the allowed values as
 * the README shows them, and a one-line description. Everything else is computed from the declarations: the input
 * schema a user's file is checked against, the resolved configuration's type (`Resolved`), the defaults, and the
 * configuration table of infra/README.md (`settingRows`).
 *
 * Generic: infra/config/settings.ts holds the declarations themselves.
 */
import { z } from "zod";

/** The environments this app knows. `prod` turns on high availability and deletion protection by default. */
export const ENVIRONMENTS = ["dev", "prod"] as const;
/** One of {@link ENVIRONMENTS}. */
export type Environment = (typeof ENVIRONMENTS)[number];

/** A default that follows other settings, computed from them once they are resolved. */
interface DerivedDefault<T, From> {
  readonly derive: (config: From) => T;
  /** How infra/README.md shows it, e.g. "`<namePrefix>-<environment>`". */
  readonly text: string;
}

/**
 * Where a setting's value comes from when the file leaves it out: `value` for every environment, `dev` and `prod`
 * where they differ, `derive` from other settings, or `required` (no default: the file or the command line gives it).
 */
export type Default<T, From> =
  { readonly value: T } | { readonly dev: T; readonly prod: T } | DerivedDefault<T, From> | { readonly required: true };

/** The declaration of one setting. */
export interface Setting<
  S extends z.ZodType = z.ZodType,
  From = never,
  D extends Default<z.output<S>, From> = Default<z.output<S>, From>,
> {
  readonly kind: "setting";
  /** Type and bounds; every message names the rule (the field's name is added by the parser). */
  readonly schema: S;
  readonly default: D;
  /** The allowed values, as infra/README.md's table shows them. */
  readonly allowed: string;
  /** What the setting does, in one line. */
  readonly description: string;
}

/** A group of settings (an object in the environment file). */
export interface Tree {
  readonly [key: string]: Setting<z.ZodType, never> | Tree;
}

/** Declares a setting whose derived default (if any) reads the resolved configuration as `From`. */
export function setting<
  S extends z.ZodType,
  From = never,
  D extends Default<z.output<S>, From> = Default<z.output<S>, From>,
>(declaration: Omit<Setting<S, From, D>, "kind">): Setting<S, From, D> {
  return { kind: "setting", ...declaration };
}

/** The resolved configuration of a tree: every setting present, with its schema's output type. */
export type Resolved<T> =
  T extends Setting<infer S, infer _From, infer _D> ? z.output<S> : { readonly [K in keyof T]: Resolved<T[K]> };

type IsRequired<T> = T extends { readonly default: { readonly required: true } } ? true : false;

/** What a user may write for a tree: every setting optional except the required ones, groups optional. */
export type Input<T> =
  T extends Setting<infer S, infer _From, infer _D>
    ? z.input<S>
    : { [K in keyof T as IsRequired<T[K]> extends true ? K : never]: Input<T[K]> } & {
        [K in keyof T as IsRequired<T[K]> extends true ? never : K]?: Input<T[K]>;
      };

function isSetting(node: Setting<z.ZodType, never> | Tree): node is Setting<z.ZodType, never> {
  return node.kind === "setting" && "schema" in node;
}

/** The zod schema of what a user may write: strict objects (unknown fields are refused), settings optional. */
export function inputSchemaOf(tree: Tree): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, node] of Object.entries(tree)) {
    if (isSetting(node)) shape[key] = "required" in node.default ? node.schema : node.schema.optional();
    else shape[key] = inputSchemaOf(node).optional();
  }
  return z.strictObject(shape);
}

/**
 * The complete configuration: each setting's validated value, or its default for `environment`. Derived defaults are
 * computed last, from the configuration resolved so far (they may read only settings that are not derived).
 */
export function resolve<T extends Tree>(tree: T, input: unknown, environment: Environment): Resolved<T> {
  const derived: Array<{ target: Record<string, unknown>; key: string; derive: (config: never) => unknown }> = [];
  const walk = (node: Tree, given: unknown): Record<string, unknown> => {
    const values = given !== null && typeof given === "object" ? (given as Record<string, unknown>) : {};
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      if (!isSetting(child)) {
        out[key] = walk(child, values[key]);
        continue;
      }
      const value = values[key];
      const fallback = child.default;
      if (value !== undefined) out[key] = value;
      else if ("value" in fallback) out[key] = fallback.value;
      else if ("derive" in fallback) derived.push({ target: out, key, derive: fallback.derive });
      else if ("dev" in fallback) out[key] = fallback[environment];
      else out[key] = undefined;
    }
    return out;
  };
  const root = walk(tree, input);
  // `never` is how a declaration accepts any reader; the resolved root is exactly what its `From` describes.
  for (const { target, key, derive } of derived) target[key] = (derive as (config: unknown) => unknown)(root);
  return root as Resolved<T>;
}

/** One row of the configuration table. */
export interface SettingRow {
  readonly field: string;
  readonly default: string;
  readonly allowed: string;
  readonly description: string;
}

function shown(value: unknown): string {
  if (value === undefined) return "none";
  return `\`${JSON.stringify(value)}\``;
}

/** Every setting in declaration order, as infra/README.md's configuration table shows it. */
export function settingRows(tree: Tree, prefix = ""): SettingRow[] {
  return Object.entries(tree).flatMap(([key, node]) => {
    const field = prefix ? `${prefix}.${key}` : key;
    if (!isSetting(node)) return settingRows(node, field);
    const fallback = node.default;
    const text =
      "value" in fallback
        ? shown(fallback.value)
        : "dev" in fallback
          ? `dev ${shown(fallback.dev)}, prod ${shown(fallback.prod)}`
          : "derive" in fallback
            ? fallback.text
            : "(required)";
    return [{ field, default: text, allowed: node.allowed, description: node.description }];
  });
}

/** The Markdown table of {@link settingRows}. */
export function settingsTable(tree: Tree): string {
  const escape = (text: string) => text.replaceAll("|", "\\|");
  return [
    "| Field | Default | Allowed | What it does |",
    "|---|---|---|---|",
    ...settingRows(tree).map(
      (row) => `| \`${row.field}\` | ${escape(row.default)} | ${escape(row.allowed)} | ${escape(row.description)} |`,
    ),
  ].join("\n");
}
