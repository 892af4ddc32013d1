/**
 * Runtime validation of the client-to-server events in ./events.ts. The service validates every event
 * with these schemas; the `satisfies` checks keep them and the TypeScript types in step.
 */
import { z } from "zod";
import type { JoinRequest, StrokeInput } from "./events";
import { COLOR_PATTERN, ID_PATTERN, MAX_WIDTH, MIN_WIDTH } from "./events";

export interface PayloadLimits {
  /** Most points accepted in one stroke event. */
  maxPointsPerStroke: number;
}

const id = z.string().regex(ID_PATTERN, "must be 1 to 64 characters of A-Z a-z 0-9 _ -");
const coordinate = z.number().min(0).max(1); // z.number() already refuses NaN and ±Infinity

export const joinSchema = z.strictObject({
  board: id,
  after: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
}) satisfies z.ZodType<JoinRequest>;

export const clearSchema = z.strictObject({});

export function strokeSchema(limits: PayloadLimits) {
  return z.strictObject({
    id,
    points: z.array(z.tuple([coordinate, coordinate])).min(1).max(limits.maxPointsPerStroke),
    color: z.string().regex(COLOR_PATTERN, "must be #rrggbb"),
    width: z.number().min(MIN_WIDTH).max(MAX_WIDTH),
  }) satisfies z.ZodType<StrokeInput>;
}

/** One line naming the first problem, for error acks: `points.3.0: Too big: expected number to be <=1`. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid payload";
  const where = issue.path.length > 0 ? issue.path.join(".") : "payload";
  return `${where}: ${issue.message}`;
}
