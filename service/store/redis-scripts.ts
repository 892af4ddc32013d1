/**
 * The Lua scripts that make every board write atomic in Redis (the contract is in ./board-store.ts).
 * A board `b` is three keys sharing the hash tag `{b}` (so a Redis Cluster would keep them on one shard):
 *
 *   wb:{b}:meta   hash  seq (last seq handed out), cleared (seq of the last clear, 0 if never)
 *   wb:{b}:pages  list  the strokes since the last clear as JSON, PAGE_SIZE strokes per element, comma-separated
 *   wb:{b}:ids    hash  stroke id -> seq, which makes a resent stroke idempotent
 *
 * Every seq since the last clear is a stroke (a clear is the only seq that is not, and it empties the pages),
 * so the stroke with seq s is number s - cleared - 1 since the clear, in page (s - cleared - 1) / PAGE_SIZE.
 * Pages, rather than one list element per stroke, make reading a big board a few hundred elements instead of
 * a hundred thousand: the read is most of a late joiner's wait.
 */
import { defineScript } from "redis";
import type { CommandParser } from "@redis/client/dist/lib/client/parser";
import type { ArrayReply, NumberReply } from "@redis/client/dist/lib/RESP/types";

/** Strokes per page: about 25 KB of JSON for strokes of 8 points, which an append copies once. */
export const PAGE_SIZE = 128;

export const boardKeys = (board: string) =>
  [`wb:{${board}}:meta`, `wb:{${board}}:pages`, `wb:{${board}}:ids`] as const;
export const presenceKey = (board: string) => `wb:{${board}}:presence`;

/** Returned in place of a seq when the board is full. */
export const BOARD_FULL = -1;

// ARGV: stroke id, stroke JSON without seq (starting with `{"id":`), max strokes, idle TTL seconds.
// Returns {seq, 1} when stored, {first seq, 0} for an id already stored, {BOARD_FULL, 0} when full.
const ADD_STROKE = `
local existing = redis.call('HGET', KEYS[3], ARGV[1])
if existing then return {tonumber(existing), 0} end
local meta = redis.call('HMGET', KEYS[1], 'seq', 'cleared')
local count = (tonumber(meta[1]) or 0) - (tonumber(meta[2]) or 0)
if count >= tonumber(ARGV[3]) then return {${BOARD_FULL}, 0} end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local stroke = '{"seq":' .. seq .. ',' .. string.sub(ARGV[2], 2)
if count % ${PAGE_SIZE} == 0 then
  redis.call('RPUSH', KEYS[2], stroke)
else
  redis.call('LSET', KEYS[2], -1, redis.call('LINDEX', KEYS[2], -1) .. ',' .. stroke)
end
redis.call('HSET', KEYS[3], ARGV[1], seq)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[4])
return {seq, 1}
`;

// ARGV: idle TTL seconds. Returns the clear's seq.
const CLEAR = `
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'cleared', seq)
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return seq
`;

// KEYS: presence hash, board meta. ARGV: instance id, this instance's count ('' to only read), entry TTL ms.
// Each instance keeps one entry "count:expiresAtMs" (Redis's clock, so instances' clocks do not matter);
// entries of instances that stopped refreshing (killed) expire. Returns {total count, board seq}.
const PRESENCE = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local ttl = tonumber(ARGV[3])
if ARGV[2] == '0' then
  redis.call('HDEL', KEYS[1], ARGV[1])
elseif ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. (nowMs + ttl))
  redis.call('PEXPIRE', KEYS[1], ttl)
end
local total = 0
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local count, expiresAt = string.match(entries[i + 1], '^(%d+):(%d+)$')
  if count and tonumber(expiresAt) > nowMs then
    total = total + tonumber(count)
  else
    redis.call('HDEL', KEYS[1], entries[i])
  end
end
return {total, tonumber(redis.call('HGET', KEYS[2], 'seq')) or 0}
`;

type Arg = string | number;

function script<Reply>(source: string, keyCount: number) {
  return defineScript({
    SCRIPT: source,
    NUMBER_OF_KEYS: keyCount,
    parseCommand(parser: CommandParser, keys: readonly string[], args: readonly Arg[]) {
      parser.pushKeys([...keys]);
      parser.push(...args.map(String));
    },
    transformReply: undefined as unknown as () => Reply,
  });
}

export const boardScripts = {
  wbAddStroke: script<ArrayReply<NumberReply>>(ADD_STROKE, 3),
  wbClear: script<NumberReply>(CLEAR, 3),
  wbPresence: script<ArrayReply<NumberReply>>(PRESENCE, 2),
};
