/**
 * Runtime validation of the client-to-server events in ./events.ts. The service validates every event with these
 * schemas; the `satisfies` checks keep them and the TypeScript types in step. Shared with the browser, so nothing here
 * uses Node's APIs.
 */
import { z } from "zod";
import { MAX_NAME_LENGTH, normalizeName } from "./names";
import type {
  AppendInput,
  CursorInput,
  EditRequest,
  ElementInput,
  ElementKind,
  JoinRequest,
  ReadRequest,
  UserInput,
  VisibilityRequest,
} from "./events";
import {
  COLOR_PATTERN,
  COORD_LIMIT,
  ELEMENT_ID_PATTERN,
  ELEMENT_KINDS,
  ID_PATTERN,
  KEY_PATTERN,
  MAX_FONT_SIZE,
  MAX_VERSION,
  MAX_WIDTH,
  MIN_FONT_SIZE,
  MIN_WIDTH,
} from "./events";
import { decodeSamples } from "./points";

export interface PayloadLimits {
  /** Most points in one `add` or `append` of a freehand line. */
  maxPointsPerEvent: number;
  /** Most elements named in one erase, restore or edit. */
  maxIdsPerChange: number;
  /** Most characters of a text or note. */
  maxTextLength: number;
  /** Most bytes of a freehand line's encoded points (a healing `add` sends them whole). */
  maxLineBytes: number;
}

const id = z.string().regex(ID_PATTERN, "must be 1 to 64 characters of A-Z a-z 0-9 _ -");
const elementId = z.string().regex(ELEMENT_ID_PATTERN, "must be 16 to 64 characters of A-Z a-z 0-9 _ -");
const key = z.string().regex(KEY_PATTERN, "must be 22 to 64 characters of A-Z a-z 0-9 _ -");
/** A user's id as the service derives it (see service/identity.ts); only a healing client sends one. */
const userId = z.string().regex(/^[A-Za-z0-9_-]{16,32}$/, "must be a user id the service made");
const color = z.string().regex(COLOR_PATTERN, "must be #rrggbb");
const fill = z.union([z.literal(""), color], { message: 'must be #rrggbb or ""' });
const seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const epoch = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "must be an epoch the server sent");
const version = z.number().int().min(0).max(MAX_VERSION);
const coordinate = z.number().int().min(-COORD_LIMIT).max(COORD_LIMIT);
/** A size may span the whole canvas, either way (a line or arrow drawn to the left or up). */
const extent = z
  .number()
  .int()
  .min(-2 * COORD_LIMIT)
  .max(2 * COORD_LIMIT);
const box = z.tuple([coordinate, coordinate, extent, extent]);

/** Kinds whose box may have a negative width or height: a straight line or arrow goes from (x, y) to (x+w, y+h). */
const DIRECTED: ReadonlySet<ElementKind> = new Set(["l", "a"]);
/** Kinds whose `sw` is a font size rather than a stroke width, and whose `d` is text. */
const TEXTUAL: ReadonlySet<ElementKind> = new Set(["t", "n"]);
/** Kinds that may have a fill. */
const FILLED: ReadonlySet<ElementKind> = new Set(["r", "e", "n"]);

/**
 * What in these fields does not fit an element of `kind` (a field name and why), or undefined. For new elements and
 * for edits, which the store checks against the element's kind (ElementPatch does not name it).
 */
export function kindProblem(
  kind: ElementKind,
  fields: { w?: number; h?: number; sw?: number; f?: string; d?: string },
): [field: string, problem: string] | undefined {
  if (!DIRECTED.has(kind)) {
    if ((fields.w ?? 0) < 0) return ["w", "must not be negative for this kind"];
    if ((fields.h ?? 0) < 0) return ["h", "must not be negative for this kind"];
  }
  if (fields.sw !== undefined) {
    if (TEXTUAL.has(kind) && (fields.sw < MIN_FONT_SIZE || fields.sw > MAX_FONT_SIZE))
      return ["sw", `must be a font size from ${MIN_FONT_SIZE} to ${MAX_FONT_SIZE}`];
    if (!TEXTUAL.has(kind) && (fields.sw < MIN_WIDTH || fields.sw > MAX_WIDTH))
      return ["sw", `must be a width from ${MIN_WIDTH} to ${MAX_WIDTH}`];
  }
  if (fields.f !== undefined && fields.f !== "" && !FILLED.has(kind)) return ["f", 'must be "" for this kind'];
  if (fields.d !== undefined && !TEXTUAL.has(kind)) return ["d", "only text and notes have text to edit"];
  return undefined;
}

/** A name's raw length before normalization, in UTF-16 units: bounds the work on a hostile one. */
const MAX_RAW_NAME = 200;

/** Characters as people count them, near enough: code points. */
const characters = (text: string) => [...text].length;

const name = z
  .string()
  .max(MAX_RAW_NAME)
  .transform(normalizeName)
  .refine((normalized) => normalized.length > 0, "must have a visible character")
  .refine((normalized) => characters(normalized) <= MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`);

export const userSchema = z.strictObject({ key, name, color }) satisfies z.ZodType<UserInput, unknown>;

export const joinSchema = z.strictObject({
  pv: z.number().int(),
  board: id,
  edit: key.optional(),
  user: userSchema,
  e: epoch.optional(),
  after: seq.optional(),
}) satisfies z.ZodType<JoinRequest, unknown>;

export const readSchema = z.union([
  z.strictObject({ e: epoch, after: seq }),
  z.strictObject({
    e: epoch,
    at: seq,
    cursor: z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 31),
  }),
]) satisfies z.ZodType<ReadRequest>;

export const clearSchema = z.strictObject({});
export const unclearSchema = z.strictObject({ of: seq.min(1) });

export const cursorSchema = z.strictObject({ x: coordinate, y: coordinate }) satisfies z.ZodType<CursorInput>;

/** Decodes base64url text of UTF-8, or undefined when it is not that. */
function decodeText(encoded: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(encoded) || encoded.length % 4 === 1) return undefined;
  try {
    const binary = atob(encoded.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** The base64url text of UTF-8 that `decodeText` reads. */
export function encodeText(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Text of at most `maxLength` characters, encoded; checked by length first so a huge one is not decoded. */
function textData(maxLength: number) {
  return z
    .string()
    .max(Math.ceil((maxLength * 4 * 4) / 3) + 4, `must encode at most ${maxLength} characters`)
    .superRefine((encoded, context) => {
      const text = decodeText(encoded);
      if (text === undefined) context.addIssue({ code: "custom", message: "must be base64url of UTF-8 text" });
      else if (characters(text) > maxLength)
        context.addIssue({ code: "custom", message: `must encode at most ${maxLength} characters` });
    });
}

/** Points of at most `maxSamples` samples (and `maxBytes` characters), or the reason they are not valid. */
function pointsProblem(encoded: string, maxSamples: number, maxBytes: number): string | undefined {
  // Each sample is at least three characters; checking the length first bounds the decoding work.
  if (encoded.length > Math.min(maxBytes, maxSamples * 3 * 6)) return `must be at most ${maxBytes} characters`;
  const decoded = decodeSamples(encoded, maxSamples);
  return typeof decoded === "string" ? `is not valid points: ${decoded}` : undefined;
}

export function elementSchema(limits: PayloadLimits) {
  const text = textData(limits.maxTextLength);
  return z
    .strictObject({
      id: elementId,
      t: z.enum(ELEMENT_KINDS as [ElementKind, ...ElementKind[]]),
      b: box,
      c: color,
      sw: z.number().int().min(MIN_WIDTH).max(MAX_FONT_SIZE),
      f: fill,
      d: z.string(),
      h: epoch.optional(),
      v: version.optional(),
      u: userId.optional(),
      n: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
    })
    .superRefine((element, context) => {
      const problem = (path: string, message: string) => context.addIssue({ code: "custom", path: [path], message });
      const [, , w, h] = element.b;
      const misfit = kindProblem(element.t, { w, h, sw: element.sw, f: element.f });
      if (misfit) problem(misfit[0] === "w" || misfit[0] === "h" ? "b" : misfit[0], misfit[1]);
      if (element.t === "f") {
        // A healing client sends a whole line back: its points are bounded by the line's limit, not one event's.
        const healing = element.h !== undefined;
        const why = pointsProblem(element.d, healing ? Infinity : limits.maxPointsPerEvent, limits.maxLineBytes);
        if (why) problem("d", why);
      } else if (TEXTUAL.has(element.t)) {
        const checked = text.safeParse(element.d);
        if (!checked.success) problem("d", checked.error.issues[0]?.message ?? "is not valid text");
      } else if (element.d !== "") problem("d", 'must be "" for this kind');
      if (element.h === undefined) {
        for (const field of ["v", "u", "n"] as const)
          if (element[field] !== undefined) problem(field, "is only for healing (with h)");
      } else if (element.v === undefined || element.u === undefined) problem("h", "a healing add needs v and u");
      if (element.t !== "f" && (element.n ?? 0) !== 0) problem("n", "must be 0 for this kind");
    }) satisfies z.ZodType<ElementInput>;
}

export function appendSchema(limits: PayloadLimits) {
  return z.strictObject({
    i: elementId,
    n: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    d: z.string().superRefine((encoded, context) => {
      const why = pointsProblem(encoded, limits.maxPointsPerEvent, limits.maxLineBytes);
      if (why) context.addIssue({ code: "custom", message: why });
    }),
    b: box,
  }) satisfies z.ZodType<AppendInput>;
}

export function visibilitySchema(limits: Pick<PayloadLimits, "maxIdsPerChange">) {
  return z.strictObject({
    ids: z.array(elementId).min(1).max(limits.maxIdsPerChange),
  }) satisfies z.ZodType<VisibilityRequest>;
}

/** Whether a patch holds a field (an empty one would take a seq and change nothing). */
const PATCH_FIELDS = ["x", "y", "w", "h", "c", "sw", "f", "d", "o"] as const;

export function editSchema(limits: Pick<PayloadLimits, "maxIdsPerChange" | "maxTextLength">) {
  const patch = z
    .strictObject({
      x: coordinate.optional(),
      y: coordinate.optional(),
      w: extent.optional(),
      h: extent.optional(),
      c: color.optional(),
      // The element's kind decides which range applies: the store checks it.
      sw: z.number().int().min(MIN_WIDTH).max(MAX_FONT_SIZE).optional(),
      f: fill.optional(),
      d: textData(limits.maxTextLength).optional(),
      o: z.union([z.literal(1), z.literal(-1)]).optional(),
    })
    .refine((fields) => PATCH_FIELDS.some((field) => fields[field] !== undefined), "must change something");
  return z.strictObject({
    x: z
      .array(z.tuple([elementId, patch]))
      .min(1)
      .max(limits.maxIdsPerChange),
  }) satisfies z.ZodType<EditRequest>;
}

/** One line naming the first problem, for error acks: `x.3.1: must be odd`. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid payload";
  const where = issue.path.length > 0 ? issue.path.join(".") : "payload";
  return `${where}: ${issue.message}`;
}
