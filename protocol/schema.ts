/**
 * Runtime validation of the client-to-server events in ./events.ts. The service validates every event
 * with these schemas; the `satisfies` checks keep them and the TypeScript types in step.
 */
import { z } from "zod";
import type { CursorInput, JoinRequest, ReadRequest, StrokeInput, UserInfo, VisibilityRequest } from "./events";
import {
  BOARD_HEIGHT,
  BOARD_WIDTH,
  COLOR_PATTERN,
  ID_PATTERN,
  MAX_VERSION,
  MAX_WIDTH,
  MIN_WIDTH,
  USER_ID_PATTERN,
} from "./events";
import { decodePoints } from "./points";

export interface PayloadLimits {
  /** Most points accepted in one stroke event. */
  maxPointsPerStroke: number;
  /** Most strokes named in one erase or restore. */
  maxIdsPerChange: number;
}

const id = z.string().regex(ID_PATTERN, "must be 1 to 64 characters of A-Z a-z 0-9 _ -");
const userId = z.string().regex(USER_ID_PATTERN, "must be 8 to 32 characters of A-Z a-z 0-9 _ -");
const color = z.string().regex(COLOR_PATTERN, "must be #rrggbb");
const seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const epoch = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "must be an epoch the server sent");
const version = z.number().int().min(0).max(MAX_VERSION);

/** Names are shown to other users: printable, no control or bidirectional-override characters. */
const name = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[^\p{Cc}\p{Cf}]+$/u, "must be printable text");

export const userSchema = z.strictObject({ id: userId, name, color }) satisfies z.ZodType<UserInfo>;

export const joinSchema = z.strictObject({
  board: id,
  user: userSchema,
  e: epoch.optional(),
  after: seq.optional(),
}) satisfies z.ZodType<JoinRequest>;

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

export const cursorSchema = z.strictObject({
  x: z.number().int().min(0).max(BOARD_WIDTH),
  y: z.number().int().min(0).max(BOARD_HEIGHT),
}) satisfies z.ZodType<CursorInput>;

export function strokeSchema(limits: Pick<PayloadLimits, "maxPointsPerStroke">) {
  // Each point is at least two characters; checking the length first bounds the decoding work.
  const maxLength = limits.maxPointsPerStroke * 2 * 4;
  return z.strictObject({
    id,
    p: z
      .string()
      .max(maxLength, `must encode at most ${limits.maxPointsPerStroke} points`)
      .superRefine((text, context) => {
        const decoded = decodePoints(text, limits.maxPointsPerStroke);
        if (typeof decoded === "string")
          context.addIssue({ code: "custom", message: `is not valid points: ${decoded}` });
      }),
    c: color,
    w: z.number().int().min(MIN_WIDTH).max(MAX_WIDTH),
    v: version.optional(),
    u: userId.optional(),
  }) satisfies z.ZodType<StrokeInput>;
}

/** `erase` wants odd versions (hidden), `restore` even ones (visible). */
export function visibilitySchema(limits: Pick<PayloadLimits, "maxIdsPerChange">, parity: "odd" | "even") {
  const wanted = parity === "odd" ? 1 : 0;
  return z.strictObject({
    x: z
      .array(z.tuple([id, version.refine((value) => value % 2 === wanted, `must be ${parity}`)]))
      .min(1)
      .max(limits.maxIdsPerChange),
  }) satisfies z.ZodType<VisibilityRequest>;
}

/** One line naming the first problem, for error acks: `x.3.1: must be odd`. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid payload";
  const where = issue.path.length > 0 ? issue.path.join(".") : "payload";
  return `${where}: ${issue.message}`;
}
