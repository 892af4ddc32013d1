/**
 * How the service's settings are declared (../config.ts holds the declarations themselves). Each environment variable
 * is one `Setting`: its name, how its text is parsed (type, bounds, default), what docs/configuration.md says about
 * it, and how its value is converted on its way into the configuration object. The declarations form a tree shaped
 * like that object, so the object's type (`ValueOf`), the flat record the rules read (`EnvOf`), the list of
 * variables and the documentation table all come from the same place.
 */
import { z } from "zod";

const KIB = 1_024;
const MIB = 1_024 * KIB;
const GIB = 1_024 * MIB;
const HOUR_SECONDS = 60 * 60;
const DAY_SECONDS = 24 * HOUR_SECONDS;

/** What docs/configuration.md says about a setting besides its name, in Markdown. */
interface SettingDocs {
  /** The values it takes, such as "1 to 65535". */
  values: string;
  /** Its value when unset, "–" when unset means absent. */
  default: string;
  description: string;
}

/** One environment variable. `Raw` is what the rules see, `Value` what the configuration object holds. */
class Setting<const Name extends string, Raw, Value = Raw> {
  constructor(
    readonly name: Name,
    readonly schema: z.ZodType<Raw>,
    readonly docs: SettingDocs,
    readonly toValue: (raw: Raw) => Value,
  ) {}

  /** The same variable, converted on its way into the configuration object (seconds into milliseconds...). */
  map<Next>(convert: (value: Value) => Next): Setting<Name, Raw, Next> {
    return new Setting(this.name, this.schema, this.docs, (raw) => convert(this.toValue(raw)));
  }
}

/** What a derivation may use besides the variables. */
interface BuildContext {
  makeInstanceId: () => string;
}

/**
 * A part of the configuration object built from several variables at once (the store from BOARD_STORE and the
 * REDIS_* variables). The inputs are declared here like any other settings; `build` gets their values.
 */
class Derived<Inputs, Value> {
  constructor(
    readonly inputs: Inputs,
    readonly build: (values: ValueOf<Inputs>, context: BuildContext) => Value,
  ) {}
}

export function derive<Inputs, Value>(
  inputs: Inputs,
  build: (values: ValueOf<Inputs>, context: BuildContext) => Value,
): Derived<Inputs, Value> {
  return new Derived(inputs, build);
}

/** The configuration object a declaration tree builds. */
export type ValueOf<T> =
  T extends Setting<infer _Name, infer _Raw, infer Value>
    ? Value
    : T extends Derived<infer _Inputs, infer Value>
      ? Value
      : { -readonly [K in keyof T]: ValueOf<T[K]> };

type Leaves<T> =
  T extends Setting<infer _Name, infer _Raw, infer _Value>
    ? T
    : T extends Derived<infer Inputs, infer _Value>
      ? Leaves<Inputs>
      : { [K in keyof T]: Leaves<T[K]> }[keyof T];

/** Every variable of a declaration tree by name, as parsed (what the rules read). */
export type EnvOf<T> = {
  [S in Leaves<T> as S extends Setting<infer Name, infer _Raw, infer _Value> ? Name : never]: S extends Setting<
    infer _Name,
    infer Raw,
    infer _Value
  >
    ? Raw
    : never;
};

/** What a rule reports with: whether a variable was given (not blank), and a problem naming a variable. */
interface RuleContext<Env> {
  given: (name: keyof Env & string) => boolean;
  problem: (name: keyof Env & string, message: string) => void;
}

/**
 * A rule across variables, with the one line docs/configuration.md lists. Rules run on every parse, also when a
 * variable failed its own checks (as zod's refinements do): compare only values that passed their own range.
 */
export interface Rule<Env> {
  description: string;
  check(env: Env, context: RuleContext<Env>): void;
}

/** The settings of a tree, in declaration order. */
export function settingsOf(tree: unknown): Setting<string, unknown, unknown>[] {
  if (tree instanceof Setting) return [tree as Setting<string, unknown, unknown>];
  if (tree instanceof Derived) return settingsOf(tree.inputs);
  return Object.values(tree as object).flatMap(settingsOf);
}

/** The configuration object from the parsed variables (already checked, rules included). */
export function buildValue<T>(tree: T, env: Record<string, unknown>, context: BuildContext): ValueOf<T> {
  return build(tree, env, context) as ValueOf<T>;
}

function build(tree: unknown, env: Record<string, unknown>, context: BuildContext): unknown {
  if (tree instanceof Setting) {
    const setting = tree as Setting<string, unknown, unknown>;
    return setting.toValue(env[setting.name]);
  }
  if (tree instanceof Derived) {
    const derived = tree as Derived<unknown, unknown>;
    return derived.build(build(derived.inputs, env, context) as ValueOf<unknown>, context);
  }
  return Object.fromEntries(Object.entries(tree as object).map(([key, node]) => [key, build(node, env, context)]));
}

// --- The kinds of settings -----------------------------------------------------------------------------------------

const code = (value: string | number | boolean) => `\`${String(value)}\``;

/** A setting with no default: what being unset means, for the documentation (else "–"). */
interface Unset {
  unset?: string;
}

const defaultDoc = (options: Unset & { default?: string | boolean }) =>
  options.default === undefined ? (options.unset ?? "–") : code(options.default);

const same = <T>(value: T): T => value;

function wholeNumber(min: number, max: number) {
  const message = `must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^\d+$/, message)
    .transform(Number)
    .pipe(z.number().int().min(min, message).max(max, message));
}

/** How a number of a given unit reads in the documentation. */
type Unit = "count" | "bytes" | "seconds";

function withUnit(value: number, unit: Unit): string {
  if (unit === "bytes") {
    for (const [size, name] of [
      [GIB, "GiB"],
      [MIB, "MiB"],
      [KIB, "KiB"],
    ] as const) {
      if (value >= size && value % size === 0) return `${code(value)} (${value / size} ${name})`;
    }
  }
  if (unit === "seconds" && value >= HOUR_SECONDS) {
    if (value % DAY_SECONDS === 0) return `${code(value)} (${plural(value / DAY_SECONDS, "day")})`;
    if (value % HOUR_SECONDS === 0) return `${code(value)} (${plural(value / HOUR_SECONDS, "hour")})`;
  }
  return code(value);
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

interface Range {
  min: number;
  max: number;
}

/** A whole number from `min` to `max`, `default` when unset. */
export function integer<const Name extends string>(
  name: Name,
  options: Range & { default: number; unit?: Unit },
  description: string,
): Setting<Name, number> {
  const unit = options.unit ?? "count";
  const docs = {
    values: `${withUnit(options.min, unit)} to ${withUnit(options.max, unit)}`,
    default: withUnit(options.default, unit),
    description,
  };
  return new Setting(name, wholeNumber(options.min, options.max).default(options.default), docs, same);
}

/** A number of bytes from `min` to `max`. */
export const bytes = <const Name extends string>(
  name: Name,
  options: Range & { default: number },
  description: string,
): Setting<Name, number> => integer(name, { ...options, unit: "bytes" }, description);

/** A number of seconds from `min` to `max`. */
export const seconds = <const Name extends string>(
  name: Name,
  options: Range & { default: number },
  description: string,
): Setting<Name, number> => integer(name, { ...options, unit: "seconds" }, description);

/** Seconds on their way into the configuration object, which counts in milliseconds. */
export const inMilliseconds = (value: number): number => value * 1000;

const BOOLEAN = z
  .enum(["true", "false", "1", "0"], { message: 'must be "true" or "false"' })
  .transform((value) => value === "true" || value === "1");

/** `true` or `false` (also `1` or `0`). */
export function flag<const Name extends string>(
  name: Name,
  options: { default: boolean },
  description: string,
): Setting<Name, boolean>;
export function flag<const Name extends string>(
  name: Name,
  options: Unset,
  description: string,
): Setting<Name, boolean | undefined>;
export function flag<const Name extends string>(
  name: Name,
  options: Unset & { default?: boolean },
  description: string,
): Setting<Name, boolean> | Setting<Name, boolean | undefined> {
  const docs = { values: `${code(true)}, ${code(false)}`, default: defaultDoc(options), description };
  return options.default === undefined
    ? new Setting(name, BOOLEAN.optional(), docs, same)
    : new Setting(name, BOOLEAN.default(options.default), docs, same);
}

const quotedList = (choices: readonly string[]) => {
  const quoted = choices.map((choice) => `"${choice}"`);
  return quoted.length === 2 ? quoted.join(" or ") : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
};

/** One of `choices`. */
export function choice<const Name extends string, const Choice extends string>(
  name: Name,
  choices: readonly [Choice, ...Choice[]],
  options: { default: NoInfer<Choice> },
  description: string,
): Setting<Name, Choice>;
export function choice<const Name extends string, const Choice extends string>(
  name: Name,
  choices: readonly [Choice, ...Choice[]],
  options: Unset,
  description: string,
): Setting<Name, Choice | undefined>;
export function choice<const Name extends string, const Choice extends string>(
  name: Name,
  choices: readonly [Choice, ...Choice[]],
  options: Unset & { default?: Choice },
  description: string,
): Setting<Name, Choice> | Setting<Name, Choice | undefined> {
  const oneOf = z.enum(choices, { message: `must be ${quotedList(choices)}` });
  const docs = { values: choices.map(code).join(", "), default: defaultDoc(options), description };
  return options.default === undefined
    ? new Setting(name, oneOf.optional(), docs, same)
    : new Setting(name, oneOf.default(options.default), docs, same);
}

/** Any other kind: the schema parses the variable's text, `undefined` when it is unset or blank. */
export function custom<const Name extends string, Raw>(
  name: Name,
  schema: z.ZodType<Raw>,
  docs: SettingDocs,
): Setting<Name, Raw> {
  return new Setting(name, schema, docs, same);
}
