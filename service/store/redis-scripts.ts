/**
 * The Lua scripts that make every board operation atomic in Redis. ./board-layout.md-style summary (the
 * README's "Boards in Redis" section has the full description):
 *
 *   wb:{b}:m  hash    e (epoch), gen (replication id it belongs to), s (last seq), n (records), bytes (record
 *                     bytes in pages), pg (open page), ob (open page bytes), lf (first seq in the log), lb (log
 *                     bytes), cl and ul (times of the last clear and of the last undo of one, ms)
 *   wb:{b}:g  hash    page state: L (live pages, ascending), k<p> (flip count: odd while a clear hides the
 *                     page), d<p> (dead records in the page, "seq:version"), z<p> (page bytes), a<p> (when a clear archived it),
 *                     c<seq> (the pages a clear flipped, "page:k,...")
 *   wb:{b}:p  hash    page -> its records, StrokeTuples (JSON arrays) joined by commas, closed at PAGE_BYTES
 *   wb:{b}:i  hash    stroke id -> "seq:page:version:state", state a (its version is version + k<page>), h
 *                     (hidden on its own), p (a version arrived before the stroke)
 *   wb:{b}:l  list    the operations since seq lf, as JSON, trimmed to LOG_BYTES: what a reconnecting client
 *                     reads instead of the whole board
 *   wb:{b}:pr hash    presence: instance -> "count:expiresAtMs"
 *
 * Every key has the hash tag {b}, so a Redis Cluster keeps a board on one shard and every script in one slot.
 *
 * Board identity: every script first compares the board's `gen` with the server's replication id
 * (`INFO replication` master_replid), which Redis changes on every restart and on every promotion of a replica.
 * A board written under another replication id may have lost its last writes, so the board takes a new epoch
 * (and its log restarts): clients holding the old epoch notice at their next message and re-read it.
 */
import { defineScript } from "redis";
import type { CommandParser } from "@redis/client/dist/lib/client/parser";
import type { ArrayReply, BlobStringReply, NumberReply } from "@redis/client/dist/lib/RESP/types";

export const boardKeys = (board: string) =>
  [`wb:{${board}}:m`, `wb:{${board}}:g`, `wb:{${board}}:p`, `wb:{${board}}:i`, `wb:{${board}}:l`] as const;
export const presenceKey = (board: string) => `wb:{${board}}:pr`;

/** Status codes scripts return in place of a seq. */
export const STATUS = { full: -1, rateLimited: -2, gone: -3, duplicate: -4 } as const;

/**
 * Shared by every board script. ARGV[1]: a fresh random epoch, used if the board is new or its history may
 * have been rewritten; ARGV[2]: idle TTL in seconds. Leaves `meta` (the m fields, numbers parsed) and helpers.
 */
const PRELUDE = `
local M, G, P, I, L = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local gen = string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)') or '-'
local raw = redis.call('HMGET', M, 'e', 'gen', 's', 'n', 'bytes', 'pg', 'ob', 'lf', 'lb', 'cl', 'ul')
local meta = { e = raw[1], gen = raw[2], s = tonumber(raw[3]) or 0, n = tonumber(raw[4]) or 0,
  bytes = tonumber(raw[5]) or 0, pg = tonumber(raw[6]) or 1, ob = tonumber(raw[7]) or 0,
  lf = tonumber(raw[8]) or 1, lb = tonumber(raw[9]) or 0, cl = tonumber(raw[10]) or 0, ul = tonumber(raw[11]) or 0 }
local ttl = ARGV[2]
local exists = meta.e ~= false and meta.e ~= nil
local rotated = false
-- Only writes create a board, so that reading made-up names costs the store nothing. Until then its epoch is "0".
if not exists then meta.e = '0' end
if exists and meta.gen ~= gen then
  -- Same data, but it may lack the last writes: a new identity, and the log starts again.
  redis.call('DEL', L)
  meta.e, meta.lf, meta.lb = ARGV[1], meta.s + 1, 0
  rotated = true
end
local function ensure_board()
  if exists then return end
  -- A new board, or one the store lost: whatever else is left of it cannot be trusted.
  redis.call('DEL', G, P, I, L)
  meta.e = ARGV[1]
  redis.call('HSET', G, 'L', '1')
  exists, rotated = true, true
end
local function save_meta()
  redis.call('HSET', M, 'e', meta.e, 'gen', gen, 's', meta.s, 'n', meta.n, 'bytes', meta.bytes,
    'pg', meta.pg, 'ob', meta.ob, 'lf', meta.lf, 'lb', meta.lb, 'cl', meta.cl, 'ul', meta.ul)
  for index = 1, 5 do redis.call('EXPIRE', KEYS[index], ttl) end
end
local function touch()
  if rotated then save_meta() elseif exists then for index = 1, 5 do redis.call('EXPIRE', KEYS[index], ttl) end end
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local page_k = {}
local function k_of(page)
  local k = page_k[page]
  if k == nil then
    k = tonumber(redis.call('HGET', G, 'k' .. page)) or 0
    page_k[page] = k
  end
  return k
end
local function parse_id(value)
  local s, g, v, o = string.match(value, '^(%d+):(%d+):(%d+):(%a)$')
  return { s = tonumber(s), g = tonumber(g), v = tonumber(v), o = o }
end
local function version_of(entry)
  if entry.o == 'a' then return entry.v + k_of(entry.g) end
  return entry.v
end
local function live_pages()
  local pages = {}
  for page in string.gmatch(redis.call('HGET', G, 'L') or '', '%d+') do pages[#pages + 1] = tonumber(page) end
  return pages
end
-- A record is known by "seq:version" (its version as written in it): a stroke shown again gets a new copy with a
-- higher version, possibly in the same page as its dead one.
local function mark_dead(page, seq, version)
  local field = 'd' .. page
  local dead = redis.call('HGET', G, field)
  local key = seq .. ':' .. version
  redis.call('HSET', G, field, dead and (dead .. ',' .. key) or key)
end
-- Deletes archived pages (cleared strokes kept for an undo), oldest first: every one archived before \`before\`,
-- then more until \`bytes\` more bytes and \`count\` more strokes fit the limits. Returns whether they fit.
local function purge_archived(bytes, count, limits, before)
  local fits = function() return meta.bytes + bytes <= limits.max_bytes and meta.n + count <= limits.max_strokes end
  local fields = redis.call('HGETALL', G)
  local archived = {}
  for index = 1, #fields, 2 do
    local page = string.match(fields[index], '^a(%d+)$')
    if page then archived[#archived + 1] = { page = tonumber(page), at = tonumber(fields[index + 1]) } end
  end
  table.sort(archived, function(x, y) return x.at < y.at or (x.at == y.at and x.page < y.page) end)
  for _, item in ipairs(archived) do
    if fits() and item.at >= before then break end
    local text = redis.call('HGET', P, item.page) or ''
    local dead = {}
    for key in string.gmatch(redis.call('HGET', G, 'd' .. item.page) or '', '[%d:]+') do dead[key] = true end
    -- Strokes whose only copy was here are gone for good: forget their ids (and stop counting them).
    for seq, version, id in string.gmatch(text, '%[(%d+),%d+,(%d+),"([^"]+)"') do
      if not dead[seq .. ':' .. version] then
        redis.call('HDEL', I, id)
        meta.n = meta.n - 1
      end
    end
    redis.call('HDEL', P, item.page)
    redis.call('HDEL', G, 'a' .. item.page, 'd' .. item.page, 'z' .. item.page)
    meta.bytes = meta.bytes - #text - 1
  end
  return fits()
end
-- Appends operations to the log, then drops the oldest until it fits in log_bytes.
local function log_append(entries, log_bytes)
  if #entries == 0 then return end
  redis.call('RPUSH', L, unpack(entries))
  for _, entry in ipairs(entries) do meta.lb = meta.lb + #entry end
  while meta.lb > log_bytes do
    local dropped = redis.call('LPOP', L)
    if not dropped then meta.lb = 0 break end
    meta.lb = meta.lb - #dropped
    meta.lf = meta.lf + 1
  end
end
-- The page a record of about \`size\` bytes goes to: the open page, unless that would pass page_bytes.
local page_texts = {}
local function place(size, page_bytes)
  if meta.ob > 0 and meta.ob + size > page_bytes then
    meta.pg = meta.pg + 1
    meta.ob = 0
    local live = redis.call('HGET', G, 'L')
    redis.call('HSET', G, 'L', (live and live ~= '') and (live .. ',' .. meta.pg) or tostring(meta.pg))
  end
  return meta.pg
end
`;

/** Serializes what PRELUDE's \`place\` decided: the record as stored, and its page's text grows by it. */
const APPEND_RECORD = `
local function append_record(seq, page, version, body)
  local record = '[' .. seq .. ',' .. page .. ',' .. version .. ',' .. body .. ']'
  local text = page_texts[page]
  if text == nil then text = redis.call('HGET', P, page) or '' end
  page_texts[page] = (text == '') and record or (text .. ',' .. record)
  meta.ob = meta.ob + #record + 1
  meta.bytes = meta.bytes + #record + 1
  return record
end
local function flush_pages()
  for page, text in pairs(page_texts) do
    redis.call('HSET', P, page, text)
    redis.call('HSET', G, 'z' .. page, #text)
  end
end
-- Shows or hides a stored stroke at version \`target\` (higher than its current one). Returns the h entry or
-- the restored record, or nil when the stroke cannot change (its page was purged).
local function change(id, entry, target, limits)
  if target % 2 == 1 then
    if entry.o == 'a' then mark_dead(entry.g, entry.s, entry.v) end
    redis.call('HSET', I, id, entry.s .. ':' .. entry.g .. ':' .. target .. ':h')
    return 'h', '["' .. id .. '",' .. target .. ']'
  end
  local text = page_texts[entry.g] or redis.call('HGET', P, entry.g)
  if not text then return nil end
  local from = string.find(text, '[' .. entry.s .. ',', 1, true)
  if not from then return nil end
  local to = string.find(text, ']', from, true)
  local body = string.match(string.sub(text, from, to), '^%[%d+,%d+,%d+,(.*)%]$')
  local size = #body + 40
  if meta.bytes + size > limits.max_bytes and not purge_archived(size, 0, limits, 0) then return nil end
  if entry.o == 'a' then mark_dead(entry.g, entry.s, entry.v) end
  local page = place(size, limits.page_bytes)
  local record = append_record(entry.s, page, target, body)
  redis.call('HSET', I, id, entry.s .. ':' .. page .. ':' .. target .. ':a')
  return 'r', record
end
`;

const LIMITS_FROM_ARGV = `
local limits = { max_strokes = tonumber(ARGV[3]), max_bytes = tonumber(ARGV[4]), page_bytes = tonumber(ARGV[5]),
  log_bytes = tonumber(ARGV[6]) }
`;

// ARGV[3..6]: limits; ARGV[7]: the acting user; then per stroke: id, body (`"i","u","c",w,"p"`, see strokeBody),
// version. Returns {epoch, seq, rotated, ops JSON, then per stroke: seq or a STATUS}.
const ADD_STROKES = `${PRELUDE}${APPEND_RECORD}${LIMITS_FROM_ARGV}
local user = ARGV[7]
ensure_board()
local results, entries = {}, {}
local h_entries, r_entries = {}, {}
for index = 8, #ARGV, 3 do
  local id, body, version = ARGV[index], ARGV[index + 1], tonumber(ARGV[index + 2])
  local existing = redis.call('HGET', I, id)
  local entry = existing and parse_id(existing)
  if entry and entry.o ~= 'p' then
    -- A resend (its ack was lost) or a client restoring what the store lacks: the version may be news.
    if version > version_of(entry) then
      local kind, item = change(id, entry, version, limits)
      if kind == 'h' then h_entries[#h_entries + 1] = item elseif kind == 'r' then r_entries[#r_entries + 1] = item end
    end
    results[#results + 1] = ${STATUS.duplicate}
    results[#results + 1] = entry.s
  else
    if entry then version = math.max(version, entry.v) end
    local size = #body + 40
    if (meta.n + 1 > limits.max_strokes or meta.bytes + size > limits.max_bytes) and not purge_archived(size, 1, limits, 0) then
      results[#results + 1] = ${STATUS.full}
      results[#results + 1] = 0
    else
      meta.s = meta.s + 1
      meta.n = meta.n + 1
      local page = place(size, limits.page_bytes)
      local record = append_record(meta.s, page, version, body)
      local state = 'a'
      if version % 2 == 1 then
        mark_dead(page, meta.s, version)
        state = 'h'
      end
      redis.call('HSET', I, id, meta.s .. ':' .. page .. ':' .. version .. ':' .. state)
      entries[#entries + 1] = '{"t":"s","s":' .. meta.s .. ',"r":' .. record .. '}'
      results[#results + 1] = meta.s
      results[#results + 1] = meta.s
    end
  end
end
if #h_entries > 0 or #r_entries > 0 then
  meta.s = meta.s + 1
  entries[#entries + 1] = '{"t":"v","s":' .. meta.s .. ',"u":"' .. user .. '","h":[' .. table.concat(h_entries, ',') ..
    '],"r":[' .. table.concat(r_entries, ',') .. ']}'
end
flush_pages()
log_append(entries, limits.log_bytes)
save_meta()
local reply = { meta.e, meta.s, rotated and 1 or 0, '[' .. table.concat(entries, ',') .. ']' }
for _, value in ipairs(results) do reply[#reply + 1] = value end
return reply
`;

// ARGV[3..6]: limits; ARGV[7]: user; then pairs: stroke id, target version. Returns {epoch, seq, rotated, ops JSON}
// (ops empty when nothing changed).
const SET_VISIBILITY = `${PRELUDE}${APPEND_RECORD}${LIMITS_FROM_ARGV}
local user = ARGV[7]
ensure_board()
local h_entries, r_entries = {}, {}
for index = 8, #ARGV, 2 do
  local id, target = ARGV[index], tonumber(ARGV[index + 1])
  local existing = redis.call('HGET', I, id)
  if not existing then
    -- The stroke itself may still be on its way (a client restoring a store): remember the version.
    redis.call('HSET', I, id, '0:0:' .. target .. ':p')
  else
    local entry = parse_id(existing)
    if entry.o == 'p' then
      if target > entry.v then redis.call('HSET', I, id, '0:0:' .. target .. ':p') end
    elseif target > version_of(entry) then
      local kind, item = change(id, entry, target, limits)
      if kind == 'h' then h_entries[#h_entries + 1] = item elseif kind == 'r' then r_entries[#r_entries + 1] = item end
    end
  end
end
local ops = '[]'
if #h_entries > 0 or #r_entries > 0 then
  meta.s = meta.s + 1
  ops = '{"t":"v","s":' .. meta.s .. ',"u":"' .. user .. '","h":[' .. table.concat(h_entries, ',') ..
    '],"r":[' .. table.concat(r_entries, ',') .. ']}'
  log_append({ ops }, limits.log_bytes)
  ops = '[' .. ops .. ']'
end
flush_pages()
save_meta()
return { meta.e, meta.s, rotated and 1 or 0, ops }
`;

// Runs even when Redis is out of memory: it deletes before it writes (archives past the undo window), and
// what it writes is a few bytes of page state. ARGV[3..6]: limits; ARGV[7]: user; ARGV[8]: least ms between
// clears of a board; ARGV[9]: how long a clear can be undone, ms; ARGV[10]: '1' to delete the cleared strokes at
// once (the store is nearly full). Returns {epoch, seq, rotated, ops JSON, STATUS or 0}.
const CLEAR = `#!lua flags=allow-oom
${PRELUDE}${LIMITS_FROM_ARGV}
local user, interval, undo_ms, hard = ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10] == '1'
local now = now_ms()
if not exists or now - meta.cl < interval then
  touch()
  return { meta.e, meta.s, rotated and 1 or 0, '[]', exists and ${STATUS.rateLimited} or 0 }
end
purge_archived(0, 0, limits, now - undo_ms)
local flipped, spec = {}, {}
for _, page in ipairs(live_pages()) do
  if redis.call('HEXISTS', P, page) == 1 then
    local k = k_of(page) + 1
    redis.call('HSET', G, 'k' .. page, k, 'a' .. page, now)
    flipped[#flipped + 1] = '"' .. page .. '":' .. k
    spec[#spec + 1] = page .. ':' .. k
  end
end
if #flipped == 0 then
  touch()
  return { meta.e, meta.s, rotated and 1 or 0, '[]', 0 }
end
if meta.ob > 0 then
  meta.pg = meta.pg + 1
  meta.ob = 0
end
redis.call('HSET', G, 'L', tostring(meta.pg))
meta.s = meta.s + 1
meta.cl = now
if hard then purge_archived(0, 0, limits, now + 1) end
redis.call('HSET', G, 'c' .. meta.s, table.concat(spec, ','))
local op = '{"t":"c","s":' .. meta.s .. ',"u":"' .. user .. '","k":{' .. table.concat(flipped, ',') .. '}}'
log_append({ op }, limits.log_bytes)
save_meta()
return { meta.e, meta.s, rotated and 1 or 0, '[' .. op .. ']', 0 }
`;

// ARGV[3..6]: limits; ARGV[7]: user; ARGV[8]: the clear's seq; ARGV[9]: least ms between two undos (an undo right
// after a clear is what users do, so it does not wait for the clear's interval).
// Returns {epoch, seq, rotated, ops JSON, STATUS or 0}.
const UNCLEAR = `${PRELUDE}${LIMITS_FROM_ARGV}
local user, of, interval = ARGV[7], ARGV[8], tonumber(ARGV[9])
local now = now_ms()
if exists and now - meta.ul < interval then
  touch()
  return { meta.e, meta.s, rotated and 1 or 0, '[]', ${STATUS.rateLimited} }
end
local spec = exists and redis.call('HGET', G, 'c' .. of)
local shown = {}
local pages = live_pages()
for page, k in string.gmatch(spec or '', '(%d+):(%d+)') do
  if k_of(tonumber(page)) == tonumber(k) and redis.call('HEXISTS', P, page) == 1 then
    redis.call('HSET', G, 'k' .. page, k + 1)
    redis.call('HDEL', G, 'a' .. page)
    shown[#shown + 1] = '"' .. page .. '":' .. (k + 1)
    pages[#pages + 1] = tonumber(page)
  end
end
if #shown == 0 then
  touch()
  return { meta.e, meta.s, rotated and 1 or 0, '[]', ${STATUS.gone} }
end
table.sort(pages)
redis.call('HSET', G, 'L', table.concat(pages, ','))
redis.call('HDEL', G, 'c' .. of)
meta.s = meta.s + 1
meta.ul = now
local op = '{"t":"u","s":' .. meta.s .. ',"u":"' .. user .. '","of":' .. of .. ',"k":{' .. table.concat(shown, ',') .. '}}'
log_append({ op }, limits.log_bytes)
save_meta()
return { meta.e, meta.s, rotated and 1 or 0, '[' .. op .. ']', 0 }
`;

// Runs even when Redis is out of memory (a full store must still be readable). ARGV[3]: the client's epoch ('' if
// none); ARGV[4]: after, or, when a snapshot continues, the seq it started at; ARGV[5]: snapshot cursor (pages below
// it; 0 for the newest, or to read operations); ARGV[6]: byte budget of one answer. Returns {epoch, seq, rotated, 'ops', ops JSON} or {epoch, seq, rotated,
// 'snapshot', next cursor (0 if none), then per page: id, k, dead records, text}.
const READ = `#!lua flags=allow-oom
${PRELUDE}
local client_epoch, after, cursor, budget = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
touch()
-- Both need the log to still hold what followed \`after\`: the operations themselves, or what a snapshot that
-- started there must replay once its last page is read.
local in_log = client_epoch == meta.e and after and after + 1 >= meta.lf and after <= meta.s
if in_log and cursor == 0 then
  local entries = redis.call('LRANGE', L, after + 1 - meta.lf, -1)
  return { meta.e, meta.s, rotated and 1 or 0, 'ops', '[' .. table.concat(entries, ',') .. ']' }
end
if not in_log or cursor == 0 then cursor = math.huge end
local pages = live_pages()
local reply = { meta.e, meta.s, rotated and 1 or 0, 'snapshot', 0 }
local used, last = 0, nil
for index = #pages, 1, -1 do
  local page = pages[index]
  if page < cursor then
    local text = redis.call('HGET', P, page)
    if text then
      if used >= budget then
        reply[5] = last
        break
      end
      reply[#reply + 1] = page
      reply[#reply + 1] = k_of(page)
      reply[#reply + 1] = redis.call('HGET', G, 'd' .. page) or ''
      reply[#reply + 1] = text
      used = used + #text
      last = page
    end
  end
end
return reply
`;

// KEYS: the board's five keys, then its presence hash. ARGV[3]: instance id; ARGV[4]: this instance's count
// ('' to only read); ARGV[5]: entry TTL ms. Each instance keeps one entry "count:expiresAtMs" (Redis's clock);
// entries of instances that stopped refreshing (killed) expire. Returns {total count, board seq, epoch}.
const PRESENCE = `${PRELUDE}
local PR = KEYS[6]
if rotated then save_meta() end
local nowMs = now_ms()
local entry_ttl = tonumber(ARGV[5])
if ARGV[4] == '0' then
  redis.call('HDEL', PR, ARGV[3])
elseif ARGV[4] ~= '' then
  redis.call('HSET', PR, ARGV[3], ARGV[4] .. ':' .. (nowMs + entry_ttl))
  redis.call('PEXPIRE', PR, entry_ttl)
end
local total = 0
local entries = redis.call('HGETALL', PR)
for i = 1, #entries, 2 do
  local count, expiresAt = string.match(entries[i + 1], '^(%d+):(%d+)$')
  if count and tonumber(expiresAt) > nowMs then
    total = total + tonumber(count)
  else
    redis.call('HDEL', PR, entries[i])
  end
end
return { total, meta.s, meta.e }
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

type Mixed = ArrayReply<BlobStringReply | NumberReply>;

export const boardScripts = {
  wbAddStrokes: script<Mixed>(ADD_STROKES, 5),
  wbSetVisibility: script<Mixed>(SET_VISIBILITY, 5),
  wbClear: script<Mixed>(CLEAR, 5),
  wbUnclear: script<Mixed>(UNCLEAR, 5),
  wbRead: script<Mixed>(READ, 5),
  wbPresence: script<Mixed>(PRESENCE, 6),
};

/** What runs the board scripts: node-redis's client, or its cluster client (which routes each to the board's node). */
export type BoardScriptRunner = Record<
  keyof typeof boardScripts,
  (keys: readonly string[], args: readonly Arg[]) => Promise<unknown>
>;
