/**
 * The Lua scripts that make every board operation atomic in Redis. docs/store.md describes the layout, what each
 * field costs and why; ./memory-board-store.ts is the readable reference of the same rules (the property tests hold
 * the two to byte-identical answers). In brief:
 *
 *   w2:{b}:m  hash  e (epoch), gen (store generation), s (last seq), n (elements), by (record bytes), pg (open page),
 *                   o (open page's text), L (live pages), lf (first seq in the log), lb (log bytes), cl and ul (times
 *                   of the last clear and undo of one), pc (seq of the last clear deleted), hv (highest version),
 *                   t (last TTL refresh), ch (earlier epochs "e:base,..."), cs (clears still undoable "seq:time,...")
 *   w2:{b}:g  hash  k<p> (a page's flip count: odd while a clear hides it), f<p> (seq of its last flip),
 *                   c<seq> (the pages a clear flipped, "page:k,...")
 *   w2:{b}:p  hash  closed page -> its records (ElementTuples as JSON, joined by commas)
 *   w2:{b}:i  hash  element id -> "seq:page"
 *   w2:{b}:l  list  the operations since seq lf, as JSON: what a reconnecting client reads instead of the board
 *   w2:{b}:pr hash  presence: instance -> "count:expiresAtMs"
 *
 * Every key has the hash tag {b}, so a Redis Cluster keeps a board on one shard and every script in one slot.
 *
 * Every script declares its flags (a `#!lua` first line): none but `allow-oom` for clear and read. Redis 7 then
 * refuses each one whole, before it runs, on a read-only replica (a demoted primary) and, but for those two, when it
 * is out of memory.
 *
 * ARGV of every board script: [1] a fresh random epoch (used if the board is new or may have lost writes), [2] the
 * store generation: the replication id of the connection's server, read once per connection by the caller (see
 * ./replication-id.ts), or '' to read it here (`INFO replication`, as on a Redis Cluster), [3] the caller's clock (ms),
 * [4] the idle TTL (s), [5] the pub/sub channel to publish what the call stored on ('' for none: the caller publishes
 * it), [6] the head of that message (see ../fanout/messages.ts: `o`, the publisher's origin tag; the epoch, a newline
 * and the operations follow).
 */
import { type CommandParser, defineScript } from "redis";
import { EPOCH_CHAIN, HEAL_VERSION_HEADROOM, LOG_TRIM_CHUNK, LOG_TRIM_TO, TTL_REFRESH_MS } from "./board-store";

export const boardKeys = (board: string) =>
  [`w2:{${board}}:m`, `w2:{${board}}:g`, `w2:{${board}}:p`, `w2:{${board}}:i`, `w2:{${board}}:l`] as const;
export const presenceKey = (board: string) => `w2:{${board}}:pr`;

/** How an item of a draw call ended, in the scripts' replies. */
export const DRAWN = {
  stored: 1,
  duplicate: 2,
  full: 3,
  tooLarge: 4,
  outOfOrder: 5,
  forbidden: 6,
  invalid: 7,
} as const;
/** Outcomes of the other scripts. */
export const STATUS = { stored: 0, unchanged: 1, rateLimited: 2, gone: 3, full: 4, invalid: 5 } as const;

/** Meta fields every board script reads (in this order); the draw script also reads `o`, the open page. */
const META_FIELDS = ["e", "gen", "s", "n", "by", "pg", "L", "lf", "lb", "cl", "ul", "pc", "hv", "t", "ch", "cs"];

const PRELUDE = `
local M, G, P, I, L = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now, ttl = tonumber(ARGV[3]), ARGV[4]
local gen = ARGV[2]
if gen == '' then gen = string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)') or '-' end
-- Integers as integers: Lua's own number format turns large ones into 1.2e+15.
local function N(x) return string.format('%d', x) end

local meta, exists, rotated, refresh, meta_dirty, open_dirty
local function load_meta(with_open)
  local fields = { ${META_FIELDS.map((field) => `'${field}'`).join(", ")} }
  if with_open then fields[#fields + 1] = 'o' end
  local raw = redis.call('HMGET', M, unpack(fields))
  exists = raw[1] ~= false
  meta = { e = raw[1] or '0', gen = raw[2] or '', s = tonumber(raw[3]) or 0, n = tonumber(raw[4]) or 0,
    by = tonumber(raw[5]) or 0, pg = tonumber(raw[6]) or 1, L = raw[7] or '1', lf = tonumber(raw[8]) or 1,
    lb = tonumber(raw[9]) or 0, cl = tonumber(raw[10]) or 0, ul = tonumber(raw[11]) or 0, pc = tonumber(raw[12]) or 0,
    hv = tonumber(raw[13]) or 0, t = tonumber(raw[14]) or 0, ch = raw[15] or '', cs = raw[16] or '' }
  if with_open then meta.o = raw[17] or '' end
  rotated, refresh, meta_dirty, open_dirty = false, false, false, false
  if exists and meta.gen ~= gen then
    -- Same data, but it may lack its last writes: a new identity. The log and the seq stay (what came back is a
    -- prefix of the history), and the old epoch is remembered with the seq it ended at.
    local chain = {}
    for entry in string.gmatch(meta.ch, '[^,]+') do chain[#chain + 1] = entry end
    chain[#chain + 1] = meta.e .. ':' .. N(meta.s)
    while #chain > ${EPOCH_CHAIN} do table.remove(chain, 1) end
    meta.ch = table.concat(chain, ',')
    meta.e, meta.gen = ARGV[1], gen
    rotated, meta_dirty = true, true
  end
end
-- The idle TTL is refreshed at most once a minute (the keys' EXPIREs go at the end of the script, after its writes).
local function touch()
  if exists and math.abs(now - meta.t) >= ${TTL_REFRESH_MS} then
    meta.t, refresh, meta_dirty = now, true, true
  end
end

local pages, page_dirty, deleted, flips, flip_seqs, index = {}, {}, {}, {}, {}, {}
local function page_text(page)
  if page == meta.pg then
    if meta.o == nil then meta.o = redis.call('HGET', M, 'o') or '' end
    return meta.o
  end
  local text = pages[page]
  if text == nil then
    text = redis.call('HGET', P, page) or ''
    pages[page] = text
  end
  return text
end
local function set_page(page, text)
  if page == meta.pg then meta.o, open_dirty = text, true else pages[page], page_dirty[page] = text, true end
end
local function page_empty(page)
  if page == meta.pg or pages[page] ~= nil then return page_text(page) == '' end
  return redis.call('HSTRLEN', P, page) == 0
end
local function k_of(page)
  if page == meta.pg then return 0 end
  local k = flips[page]
  if k == nil then
    k = tonumber(redis.call('HGET', G, 'k' .. page)) or 0
    flips[page] = k
  end
  return k
end
local function flip_seq(page)
  if page == meta.pg then return 0 end
  local seq = flip_seqs[page]
  if seq == nil then
    seq = tonumber(redis.call('HGET', G, 'f' .. page)) or 0
    flip_seqs[page] = seq
  end
  return seq
end
local function index_of(id)
  local entry = index[id]
  if entry == nil then
    entry = redis.call('HGET', I, id)
    index[id] = entry
  end
  return entry
end
local function prefetch(ids)
  local wanted = {}
  for _, id in ipairs(ids) do if index[id] == nil then wanted[#wanted + 1] = id end end
  if #wanted == 0 then return end
  local entries = redis.call('HMGET', I, unpack(wanted))
  for position, id in ipairs(wanted) do index[id] = entries[position] end
end
-- Index entries written by this call, set together at its end.
local index_dirty = {}
local function set_index(id, s, g)
  local entry = N(s) .. ':' .. N(g)
  index[id], index_dirty[id] = entry, true
end

local function parse(text)
  local f = {}
  for part in string.gmatch(string.sub(text, 2, -2), '[^,]+') do f[#f + 1] = part end
  local function str(value) return string.sub(value, 2, -2) end
  return { s = tonumber(f[1]), g = tonumber(f[2]), o = tonumber(f[3]), v = tonumber(f[4]), i = str(f[5]),
    u = str(f[6]), t = str(f[7]), z = tonumber(f[8]), x = tonumber(f[9]), y = tonumber(f[10]), w = tonumber(f[11]),
    h = tonumber(f[12]), c = str(f[13]), sw = tonumber(f[14]), f = str(f[15]), n = tonumber(f[16]), d = str(f[17]),
    l = tonumber(f[18]) }
end
local function format(r)
  return '[' .. N(r.s) .. ',' .. N(r.g) .. ',' .. N(r.o) .. ',' .. N(r.v) .. ',"' .. r.i .. '","' .. r.u .. '","' ..
    r.t .. '",' .. N(r.z) .. ',' .. N(r.x) .. ',' .. N(r.y) .. ',' .. N(r.w) .. ',' .. N(r.h) .. ',"' .. r.c ..
    '",' .. N(r.sw) .. ',"' .. r.f .. '",' .. N(r.n) .. ',"' .. r.d .. '",' .. N(r.l) .. ']'
end
local function copy(r)
  local out = {}
  for name, value in pairs(r) do out[name] = value end
  return out
end

local function version(rec)
  if rec.o == 1 then return rec.v end
  return rec.v + k_of(rec.g)
end
-- Gives rec version \`target\` and the visibility its parity says. True when the element must move to the open page:
-- shown again while a clear hides its page.
local function set_version(rec, target)
  local k = k_of(rec.g)
  if target % 2 == 1 then
    -- Hidden: by its page's clear still (then an undo of the clear shows it), or on its own.
    if rec.o == 0 and k % 2 == 1 then rec.v = target - k else rec.o, rec.v = 1, target end
    return false
  end
  if k % 2 == 0 then
    rec.o, rec.v = 0, target - k
    return false
  end
  rec.o, rec.v = 0, target
  return true
end
local function raise(v) if v > meta.hv then meta.hv = v end end

local function find_at(entry)
  if not entry then return nil end
  local s, g = string.match(entry, '^(%d+):(%d+)$')
  local text = page_text(tonumber(g))
  local from = string.find(text, '[' .. s .. ',', 1, true)
  if not from then return nil end
  local to = string.find(text, ']', from, true)
  local rec_text = string.sub(text, from, to)
  return { rec = parse(rec_text), text = rec_text }
end
local function find(id) return find_at(index_of(id)) end

local function close_open_page()
  page_text(meta.pg)
  pages[meta.pg], page_dirty[meta.pg] = meta.o, true
  meta.pg = meta.pg + 1
  meta.o, open_dirty = '', true
  meta.L = meta.L .. ',' .. N(meta.pg)
end
-- Puts rec on the open page (a new one when it would pass page_bytes); returns its text.
local function place(rec, page_bytes)
  local open = page_text(meta.pg)
  rec.g = meta.pg
  local text = format(rec)
  if open ~= '' and #open + 1 + #text > page_bytes then
    close_open_page()
    open = ''
    rec.g = meta.pg
    text = format(rec)
  end
  set_page(meta.pg, (open == '') and text or (open .. ',' .. text))
  meta.by = meta.by + #text + 1
  set_index(rec.i, rec.s, rec.g)
  return text
end
-- A page's text without the record of seq s and one comma beside it.
local function without_record(text, s)
  local from = string.find(text, '[' .. N(s) .. ',', 1, true)
  local to = string.find(text, ']', from, true)
  if from > 1 then return string.sub(text, 1, from - 2) .. string.sub(text, to + 1) end
  if to < #text then return string.sub(text, to + 2) end
  return ''
end
-- Writes rec (changed from found) back: in place, or moved to the open page. Returns its text.
local function rewrite(found, rec, move, page_bytes)
  local page = page_text(found.rec.g)
  if move then
    set_page(found.rec.g, without_record(page, rec.s))
    meta.by = meta.by - #found.text - 1
    return place(rec, page_bytes)
  end
  local from = string.find(page, '[' .. N(rec.s) .. ',', 1, true)
  local to = string.find(page, ']', from, true)
  local text = format(rec)
  set_page(rec.g, string.sub(page, 1, from - 1) .. text .. string.sub(page, to + 1))
  meta.by = meta.by + #text - #found.text
  return text
end

local function base_of(epoch)
  for known, base in string.gmatch(meta.ch, '([^:,]+):(%d+)') do
    if known == epoch then return tonumber(base) end
  end
  return nil
end

-- Only a stored operation creates a board, so that reading or erasing made-up ids stores nothing.
local function ensure_board()
  if exists then return end
  -- Whatever is left of a board whose meta expired cannot be trusted. The placeholders make every key exist now, so
  -- that the EXPIREs at the end of this script reach them all.
  redis.call('DEL', G, P, I, L)
  redis.call('HSET', G, '_', '')
  redis.call('HSET', P, '_', '')
  redis.call('HSET', I, '_', '')
  meta.e, meta.gen = ARGV[1], gen
  exists, rotated, meta_dirty = true, true, true
  meta.t = -1e18
  touch()
end

local function delete_page(page)
  local text = page_text(page)
  local ids = {}
  for id in string.gmatch(text, '%[%-?%d+,%d+,[01],%-?%d+,"([^"]+)"') do
    ids[#ids + 1] = id
    index[id], index_dirty[id] = false, nil
    meta.n = meta.n - 1
  end
  for first = 1, #ids, 1000 do redis.call('HDEL', I, unpack(ids, first, math.min(first + 999, #ids))) end
  if text ~= '' then meta.by = meta.by - #text - 1 end
  redis.call('HDEL', P, page)
  redis.call('HDEL', G, 'k' .. page, 'f' .. page)
  pages[page], page_dirty[page], deleted[page], flips[page], flip_seqs[page] = '', nil, true, nil, nil
  meta_dirty = true
end
-- Deletes the pages of every clear made before \`before\` (its undo window is over): the only way cleared elements leave
-- the board, short of a hard clear. Never to make room: a full board refuses writes instead.
local function purge_clears(before)
  local kept = {}
  for seq, at in string.gmatch(meta.cs, '(%d+):(%-?%d+)') do
    if tonumber(at) < before then
      for page in string.gmatch(redis.call('HGET', G, 'c' .. seq) or '', '(%d+):%d+') do delete_page(tonumber(page)) end
      redis.call('HDEL', G, 'c' .. seq)
      if tonumber(seq) > meta.pc then meta.pc = tonumber(seq) end
      meta_dirty = true
    else
      kept[#kept + 1] = seq .. ':' .. at
    end
  end
  meta.cs = table.concat(kept, ',')
end

-- Appends operations to the log and returns them as a JSON array, published first when the caller named a channel:
-- from inside the script, every instance hears a board's operations in seq order, and the call costs Redis no command
-- of its own. Past log_bytes, the log drops its oldest entries, ${LOG_TRIM_CHUNK} at a time, until it is down to
-- ${LOG_TRIM_TO} of it (keeping one). The log holds one entry per seq from lf to s. Trimming reads only what it drops.
local function log_append(entries, log_bytes)
  if #entries == 0 then return '[]' end
  local ops = '[' .. table.concat(entries, ',') .. ']'
  if ARGV[5] ~= '' then redis.call('SPUBLISH', ARGV[5], ARGV[6] .. meta.e .. '\\n' .. ops) end
  redis.call('RPUSH', L, unpack(entries))
  for _, entry in ipairs(entries) do meta.lb = meta.lb + #entry end
  meta_dirty = true
  if meta.lb <= log_bytes then return ops end
  local target = math.floor(log_bytes * ${LOG_TRIM_TO})
  while meta.lb > target and meta.s > meta.lf do
    for _, entry in ipairs(redis.call('LPOP', L, math.min(${LOG_TRIM_CHUNK}, meta.s - meta.lf))) do
      meta.lb, meta.lf = meta.lb - #entry, meta.lf + 1
    end
  end
  return ops
end

local function save()
  local fields = {}
  for page, text in pairs(pages) do
    if page_dirty[page] and not deleted[page] then
      fields[#fields + 1] = page
      fields[#fields + 1] = text
    end
  end
  if #fields > 0 then redis.call('HSET', P, unpack(fields)) end
  fields = {}
  for id in pairs(index_dirty) do
    fields[#fields + 1] = id
    fields[#fields + 1] = index[id]
  end
  if #fields > 0 then redis.call('HSET', I, unpack(fields)) end
  if meta_dirty or open_dirty then
    local values = { 'e', meta.e, 'gen', meta.gen, 's', N(meta.s), 'n', N(meta.n), 'by', N(meta.by), 'pg', N(meta.pg),
      'L', meta.L, 'lf', N(meta.lf), 'lb', N(meta.lb), 'cl', N(meta.cl), 'ul', N(meta.ul), 'pc', N(meta.pc),
      'hv', N(meta.hv), 't', N(meta.t), 'ch', meta.ch, 'cs', meta.cs }
    if open_dirty then
      values[#values + 1] = 'o'
      values[#values + 1] = meta.o
    end
    redis.call('HSET', M, unpack(values))
  end
  if refresh then for index = 1, 5 do redis.call('EXPIRE', KEYS[index], ttl) end end
end
`;

// ARGV[7..12]: most elements, most bytes, the bytes only appends may use, most bytes of a line, page bytes, log
// bytes. Then items, each 'a' (add) user id t x y w h c sw f d heal-epoch ('' if not healing) v u n, or 'p' (append)
// user id n d x y w h. Returns {epoch, seq, rotated, ops JSON, then per item: DRAWN status, seq, bytes}.
const DRAW = `#!lua
${PRELUDE}
local limits = { max_elements = tonumber(ARGV[7]), max_bytes = tonumber(ARGV[8]), reserve = tonumber(ARGV[9]),
  line_bytes = tonumber(ARGV[10]), page_bytes = tonumber(ARGV[11]), log_bytes = tonumber(ARGV[12]) }
load_meta(true)
touch()
local items, adds = {}, {}
local at = 13
while at <= #ARGV do
  if ARGV[at] == 'a' then
    items[#items + 1] = { kind = 'a', user = ARGV[at + 1], id = ARGV[at + 2], t = ARGV[at + 3],
      x = tonumber(ARGV[at + 4]), y = tonumber(ARGV[at + 5]), w = tonumber(ARGV[at + 6]), h = tonumber(ARGV[at + 7]),
      c = ARGV[at + 8], sw = tonumber(ARGV[at + 9]), f = ARGV[at + 10], d = ARGV[at + 11], heal = ARGV[at + 12],
      v = tonumber(ARGV[at + 13]), u = ARGV[at + 14], n = tonumber(ARGV[at + 15]) }
    adds[#adds + 1] = ARGV[at + 2]
    at = at + 16
  else
    items[#items + 1] = { kind = 'p', user = ARGV[at + 1], id = ARGV[at + 2], n = tonumber(ARGV[at + 3]),
      d = ARGV[at + 4], x = tonumber(ARGV[at + 5]), y = tonumber(ARGV[at + 6]), w = tonumber(ARGV[at + 7]),
      h = tonumber(ARGV[at + 8]) }
    at = at + 9
  end
end
prefetch(adds)

local function fits_new(bytes)
  return meta.n + 1 <= limits.max_elements and meta.by + bytes <= limits.max_bytes - limits.reserve
end
-- A healing client's version, at most ${HEAL_VERSION_HEADROOM} above the board's highest (same parity).
local function capped(v)
  local cap = meta.hv + ${HEAL_VERSION_HEADROOM}
  if v <= cap then return v end
  return cap - ((cap - v) % 2)
end
-- An \`a\` operation. It carries the flip count of the record's page when that is not 0 (a healed element placed on a
-- page a clear hid): a client that joined after the clear does not hold that page's count.
local function add_op(s, rec, text)
  local k = k_of(rec.g)
  local flips = ''
  if k ~= 0 then flips = ',"k":{"' .. N(rec.g) .. '":' .. N(k) .. '}' end
  return '{"t":"a","s":' .. N(s) .. ',"r":' .. text .. flips .. '}'
end
local function added(rec, text)
  return ${DRAWN.stored}, add_op(rec.s, rec, text)
end

-- The page of the first clear still undoable made after \`base\`, if any: a healed element to be shown goes there,
-- hidden with that clear's elements (the clear would have hidden it, had it been there; its undo shows it).
local function clear_after(base)
  local page = nil
  for seq in string.gmatch(meta.cs, '(%d+):%-?%d+') do
    if tonumber(seq) > base then
      for listed in string.gmatch(redis.call('HGET', G, 'c' .. seq) or '', '(%d+):%d+') do page = tonumber(listed) end
      return page
    end
  end
  return nil
end
local function add_to_page(page, rec, text)
  local current = page_text(page)
  set_page(page, (current == '') and text or (current .. ',' .. text))
  meta.by = meta.by + #text + 1
  set_index(rec.i, rec.s, page)
end

-- An element a healing client held that the board lacks: created as the client knew it, unless a clear made after
-- the loss deleted it for good. Its last change is the healer's base (not the heal's seq), so that another client's
-- later knowledge from the same history can still heal it.
local function heal_missing(item, rec)
  local known = base_of(item.heal)
  local base = known or 0
  if meta.pc > base then return ${DRAWN.duplicate}, meta.s end
  local target = capped(item.v)
  -- The author as the client knew it only where the board knows that history; else the healer's own id.
  if known then rec.u = item.u end
  rec.n = (item.t == 'f') and item.n or 0
  rec.l = base
  local page = nil
  if target % 2 == 0 then page = clear_after(base) end
  if page == nil then
    rec.o, rec.v = (target % 2 == 1) and 1 or 0, target
  else
    rec.g, rec.o, rec.v = page, 0, target + 1 - k_of(page)
  end
  local text = format(rec)
  if not fits_new(#text + 1) then return ${DRAWN.full} end
  ensure_board()
  meta.s, meta.n = rec.s, meta.n + 1
  raise(version(rec))
  if page == nil then return added(rec, place(rec, limits.page_bytes)) end
  add_to_page(page, rec, text)
  return added(rec, text)
end

-- An element both hold: the healer's knowledge is taken only where nothing changed the element (or flipped its page)
-- after the healer's history left the board's, and only if it is newer (a higher version).
-- A heal not taken is answered with the board's seq, not the element's: the board as of that seq shows what the store
-- holds of the element (a page that waits for it to drop what it sent back would otherwise show its older state).
local function heal_existing(item, entry)
  local found = find_at(entry)
  if not found then return ${DRAWN.duplicate}, meta.s end
  local base = base_of(item.heal) or 0
  local target = capped(item.v)
  local rec = found.rec
  local changed = math.max(rec.l, flip_seq(rec.g))
  if base == 0 or rec.t ~= item.t or changed > base or target <= version(rec) then return ${DRAWN.duplicate}, meta.s end
  local healed = copy(rec)
  healed.x, healed.y, healed.w, healed.h, healed.c, healed.sw, healed.f, healed.d =
    item.x, item.y, item.w, item.h, item.c, item.sw, item.f, item.d
  healed.n = (item.t == 'f') and item.n or 0
  healed.l = base
  if meta.by + #format(healed) - #found.text > limits.max_bytes then return ${DRAWN.full} end
  local showing = target % 2 == 0 and version(rec) % 2 == 1
  local move = set_version(healed, target)
  -- Shown again: as for an element the board lacks, a clear made after the loss hides it (or deleted it for good).
  if showing and meta.pc > base then return ${DRAWN.duplicate}, meta.s end
  local page = nil
  if showing then page = clear_after(base) end
  meta.s = meta.s + 1
  raise(target)
  if page == nil then
    return ${DRAWN.stored}, add_op(meta.s, healed, rewrite(found, healed, move, limits.page_bytes))
  end
  set_page(rec.g, without_record(page_text(rec.g), rec.s))
  meta.by = meta.by - #found.text - 1
  healed.g, healed.o, healed.v = page, 0, target + 1 - k_of(page)
  local text = format(healed)
  add_to_page(page, healed, text)
  return ${DRAWN.stored}, add_op(meta.s, healed, text)
end

local function add(item)
  local healing = item.heal ~= '' and item.heal ~= meta.e
  local entry = index_of(item.id)
  if entry then
    if healing then return heal_existing(item, entry) end
    return ${DRAWN.duplicate}, tonumber(string.match(entry, '^(%d+):'))
  end
  local s = meta.s + 1
  local rec = { s = s, g = meta.pg, o = 0, v = 0, i = item.id, u = item.user, t = item.t, z = s, x = item.x,
    y = item.y, w = item.w, h = item.h, c = item.c, sw = item.sw, f = item.f, n = 0, d = item.d, l = s }
  if healing then return heal_missing(item, rec) end
  if not fits_new(#format(rec) + 1) then return ${DRAWN.full} end
  ensure_board()
  meta.s, meta.n = s, meta.n + 1
  return added(rec, place(rec, limits.page_bytes))
end

-- The sender's line: looked for in the open page first (where a line being drawn almost always is), then by id. A
-- plain search for its id, author and kind (the only three quoted fields in a row in a record): a pattern search cost
-- 200 µs a call on a full page, Lua's matcher trying it at every byte.
local function find_line(user, id)
  local open = page_text(meta.pg)
  local at = string.find(open, '"' .. id .. '","' .. user .. '","f",', 1, true)
  if not at then return find(id) end
  -- The record's start: the last '[' before its id, after its four numbers.
  local from = at - 1
  while from > 1 and string.byte(open, from) ~= 91 do from = from - 1 end
  if not string.find(string.sub(open, from, at - 1), '^%[%d+,%d+,[01],%-?%d+,$') then return find(id) end
  local text = string.sub(open, from, string.find(open, ']', at, true))
  return { rec = parse(text), text = text }
end

local function append(item)
  local found = find_line(item.user, item.id)
  if not found then return ${DRAWN.outOfOrder} end
  local rec = found.rec
  if rec.t ~= 'f' then return ${DRAWN.invalid} end
  if rec.u ~= item.user then return ${DRAWN.forbidden} end
  if item.n <= rec.n then return ${DRAWN.duplicate}, meta.s end
  if item.n > rec.n + 1 then return ${DRAWN.outOfOrder} end
  if #rec.d + #item.d > limits.line_bytes then return ${DRAWN.tooLarge} end
  local grown = copy(rec)
  grown.x, grown.y, grown.w, grown.h, grown.n, grown.d, grown.l =
    item.x, item.y, item.w, item.h, item.n, rec.d .. item.d, meta.s + 1
  local target = version(rec) + 2
  set_version(grown, target)
  if meta.by + #format(grown) - #found.text > limits.max_bytes then return ${DRAWN.full} end
  meta.s = meta.s + 1
  rewrite(found, grown, false, limits.page_bytes)
  raise(target)
  return ${DRAWN.stored}, '{"t":"p","s":' .. N(meta.s) .. ',"i":"' .. rec.i .. '","n":' .. N(item.n) .. ',"v":' ..
    N(target) .. ',"d":"' .. item.d .. '","b":[' .. N(item.x) .. ',' .. N(item.y) .. ',' .. N(item.w) .. ',' ..
    N(item.h) .. ']}'
end

local entries, results = {}, {}
for _, item in ipairs(items) do
  local status, detail
  if item.kind == 'a' then status, detail = add(item) else status, detail = append(item) end
  if status == ${DRAWN.stored} then
    entries[#entries + 1] = detail
    results[#results + 1] = status
    results[#results + 1] = meta.s
    results[#results + 1] = #detail
  else
    results[#results + 1] = status
    results[#results + 1] = detail or 0
    results[#results + 1] = 0
  end
end
local ops = log_append(entries, limits.log_bytes)
save()
local reply = { meta.e, meta.s, rotated and 1 or 0, ops }
for _, value in ipairs(results) do reply[#reply + 1] = value end
return reply
`;

// ARGV[7]: page bytes; [8]: log bytes; [9]: user; [10]: '1' to show, '0' to hide; then element ids.
// Returns {epoch, seq, rotated, ops JSON} (ops empty when nothing changed).
const SET_VISIBILITY = `#!lua
${PRELUDE}
local page_bytes, log_bytes, user, show = tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9], ARGV[10] == '1'
load_meta(false)
touch()
local ops = '[]'
if exists then
  local ids = {}
  for position = 11, #ARGV do ids[#ids + 1] = ARGV[position] end
  prefetch(ids)
  local s = meta.s + 1
  local changed, moved = {}, {}
  for _, id in ipairs(ids) do
    local found = find(id)
    if found then
      local current = version(found.rec)
      if current % 2 ~= (show and 0 or 1) then
        local rec = copy(found.rec)
        rec.l = s
        local move = set_version(rec, current + 1)
        local text = rewrite(found, rec, move, page_bytes)
        if move then moved[#moved + 1] = text end
        changed[#changed + 1] = '["' .. id .. '",' .. N(current + 1) .. ']'
        raise(current + 1)
      end
    end
  end
  if #changed > 0 then
    meta.s = s
    local records = ''
    if #moved > 0 then records = ',"r":[' .. table.concat(moved, ',') .. ']' end
    local op = '{"t":"v","s":' .. N(s) .. ',"u":"' .. user .. '","x":[' .. table.concat(changed, ',') .. ']' ..
      records .. '}'
    ops = log_append({ op }, log_bytes)
  end
end
save()
return { meta.e, meta.s, rotated and 1 or 0, ops }
`;

// ARGV[7]: most bytes; [8]: the bytes only appends may use; [9]: log bytes; [10]: user; [11]: the edits, JSON
// [[id, patch], ...]. Returns {epoch, seq, rotated, ops JSON, STATUS, index of an invalid edit, why}.
const EDIT = `#!lua
${PRELUDE}
local max_bytes, reserve, log_bytes, user = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10]
load_meta(false)
touch()
local DIRECTED, TEXTUAL, FILLED = { l = true, a = true }, { t = true, n = true }, { r = true, e = true, n = true }
-- As kindProblem in protocol/schema.ts.
local function kind_problem(kind, patch)
  if not DIRECTED[kind] then
    if (patch.w or 0) < 0 then return 'w: must not be negative for this kind' end
    if (patch.h or 0) < 0 then return 'h: must not be negative for this kind' end
  end
  if patch.sw ~= nil then
    if TEXTUAL[kind] and (patch.sw < 8 or patch.sw > 256) then return 'sw: must be a font size from 8 to 256' end
    if not TEXTUAL[kind] and (patch.sw < 1 or patch.sw > 64) then return 'sw: must be a width from 1 to 64' end
  end
  if patch.f ~= nil and patch.f ~= '' and not FILLED[kind] then return 'f: must be "" for this kind' end
  if patch.d ~= nil and not TEXTUAL[kind] then return 'd: only text and notes have text to edit' end
  return nil
end

local function finish(status, index, why)
  save()
  return { meta.e, meta.s, rotated and 1 or 0, '[]', status, index or 0, why or '' }
end
if not exists then return finish(${STATUS.unchanged}) end
local items = cjson.decode(ARGV[11])
local ids = {}
for _, item in ipairs(items) do ids[#ids + 1] = item[1] end
prefetch(ids)
local s = meta.s + 1
-- First every patch, on copies: a request that does not fit changes nothing.
local edited, order, applied = {}, {}, {}
for position, item in ipairs(items) do
  local id, patch = item[1], item[2]
  local state = edited[id]
  local found = state and state.found or find(id)
  if found then
    local rec = copy(state and state.rec or found.rec)
    local problem = kind_problem(rec.t, patch)
    if problem then return finish(${STATUS.invalid}, position - 1, problem) end
    local fields = {}
    for _, name in ipairs({ 'x', 'y', 'w', 'h', 'sw' }) do
      if patch[name] ~= nil then
        rec[name] = patch[name]
        fields[#fields + 1] = '"' .. name .. '":' .. N(patch[name])
      end
    end
    for _, name in ipairs({ 'c', 'f', 'd' }) do
      if patch[name] ~= nil then
        rec[name] = patch[name]
        fields[#fields + 1] = '"' .. name .. '":"' .. patch[name] .. '"'
      end
    end
    if patch.o ~= nil then
      -- To the front: drawn as if made now; to the back: below everything moved back before.
      rec.z = patch.o * s
      fields[#fields + 1] = '"z":' .. N(rec.z)
    end
    local target = version(rec) + 2
    set_version(rec, target)
    rec.l = s
    if not state then order[#order + 1] = id end
    edited[id] = { found = found, rec = rec }
    applied[#applied + 1] = '["' .. id .. '",' .. N(target) .. ',{' .. table.concat(fields, ',') .. '}]'
  end
end
if #applied == 0 then return finish(${STATUS.unchanged}) end
local growth = 0
for _, id in ipairs(order) do growth = growth + #format(edited[id].rec) - #edited[id].found.text end
if growth > 0 and meta.by + growth > max_bytes - reserve then return finish(${STATUS.full}) end
for _, id in ipairs(order) do
  rewrite(edited[id].found, edited[id].rec, false, 0)
  raise(version(edited[id].rec))
end
meta.s = s
local op = '{"t":"e","s":' .. N(s) .. ',"u":"' .. user .. '","x":[' .. table.concat(applied, ',') .. ']}'
local ops = log_append({ op }, log_bytes)
save()
return { meta.e, meta.s, rotated and 1 or 0, ops, ${STATUS.stored}, 0, '' }
`;

// Runs even when Redis is out of memory: it deletes before it writes (clears past their undo window), and what it
// writes is a few bytes of page state. ARGV[7]: log bytes; [8]: user; [9]: least ms between clears of a board; [10]:
// how long a clear can be undone, ms; [11]: '1' to delete the cleared elements at once (the store is nearly full).
// Returns {epoch, seq, rotated, ops JSON, STATUS}.
const CLEAR = `#!lua flags=allow-oom
${PRELUDE}
local log_bytes, user, interval, undo_ms, hard = tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10]),
  ARGV[11] == '1'
load_meta(false)
touch()
local function finish(status, ops)
  save()
  return { meta.e, meta.s, rotated and 1 or 0, ops or '[]', status }
end
if not exists then return finish(${STATUS.unchanged}) end
if now - meta.cl < interval then return finish(${STATUS.rateLimited}) end
purge_clears(now - undo_ms)
local live = {}
for page in string.gmatch(meta.L, '%d+') do live[#live + 1] = tonumber(page) end
local any = false
for _, page in ipairs(live) do
  if not page_empty(page) then
    any = true
    break
  end
end
if not any then return finish(${STATUS.unchanged}) end
local s = meta.s + 1
local flipped, spec = {}, {}
for _, page in ipairs(live) do
  if page_empty(page) then
    -- Every record moved out of it (shown again elsewhere): nothing to keep.
    if page ~= meta.pg then delete_page(page) end
  else
    if page == meta.pg then close_open_page() end
    local k = k_of(page) + 1
    redis.call('HSET', G, 'k' .. page, k, 'f' .. page, s)
    flips[page], flip_seqs[page] = k, s
    flipped[#flipped + 1] = '"' .. page .. '":' .. k
    spec[#spec + 1] = page .. ':' .. k
  end
end
meta.L = N(meta.pg)
meta.s, meta.cl, meta_dirty = s, now, true
redis.call('HSET', G, 'c' .. s, table.concat(spec, ','))
meta.cs = (meta.cs == '') and (N(s) .. ':' .. N(now)) or (meta.cs .. ',' .. N(s) .. ':' .. N(now))
if hard then purge_clears(math.huge) end
local op = '{"t":"c","s":' .. N(s) .. ',"u":"' .. user .. '","k":{' .. table.concat(flipped, ',') .. '}}'
return finish(${STATUS.stored}, log_append({ op }, log_bytes))
`;

// ARGV[7]: log bytes; [8]: user; [9]: the clear's seq; [10]: least ms between two undos (an undo right after a clear is
// what users do, so it does not wait for the clear's interval). Returns {epoch, seq, rotated, ops JSON, STATUS}.
const UNCLEAR = `#!lua
${PRELUDE}
local log_bytes, user, of, interval = tonumber(ARGV[7]), ARGV[8], ARGV[9], tonumber(ARGV[10])
load_meta(false)
touch()
local function finish(status, ops)
  save()
  return { meta.e, meta.s, rotated and 1 or 0, ops or '[]', status }
end
if not exists then return finish(${STATUS.gone}) end
if now - meta.ul < interval then return finish(${STATUS.rateLimited}) end
local spec = redis.call('HGET', G, 'c' .. of)
if not spec then return finish(${STATUS.gone}) end
local s = meta.s + 1
local live = {}
for page in string.gmatch(meta.L, '%d+') do live[#live + 1] = tonumber(page) end
local shown = {}
for page, k in string.gmatch(spec, '(%d+):(%d+)') do
  page, k = tonumber(page), tonumber(k)
  if k_of(page) == k and redis.call('HEXISTS', P, page) == 1 then
    redis.call('HSET', G, 'k' .. page, k + 1, 'f' .. page, s)
    shown[#shown + 1] = '"' .. page .. '":' .. (k + 1)
    live[#live + 1] = page
  end
end
if #shown == 0 then return finish(${STATUS.gone}) end
table.sort(live)
for position, page in ipairs(live) do live[position] = N(page) end
meta.L = table.concat(live, ',')
redis.call('HDEL', G, 'c' .. of)
local kept = {}
for seq, at in string.gmatch(meta.cs, '(%d+):(%-?%d+)') do
  if seq ~= of then kept[#kept + 1] = seq .. ':' .. at end
end
meta.cs = table.concat(kept, ',')
meta.s, meta.ul, meta_dirty = s, now, true
local op = '{"t":"u","s":' .. N(s) .. ',"u":"' .. user .. '","of":' .. of .. ',"k":{' .. table.concat(shown, ',') .. '}}'
return finish(${STATUS.stored}, log_append({ op }, log_bytes))
`;

// Runs even when Redis is out of memory (a full store must still be readable). ARGV[7]: the client's epoch ('' if
// none); [8]: after, or, when a snapshot continues, the seq it started at ('' if none); [9]: snapshot cursor (pages
// below it; 0 for the newest, or to read operations); [10]: byte budget of one answer. Returns {epoch, seq, rotated,
// base (-1: none), 'ops', ops JSON} or {epoch, seq, rotated, base, 'snapshot', next cursor (0 if none), then per page:
// id, k, text}.
const READ = `#!lua flags=allow-oom
${PRELUDE}
local named, after, cursor, budget = ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
load_meta(false)
touch()
save()
-- A client of another epoch shares the board's history up to that epoch's base (0 when it is not known).
local base = nil
if named ~= '' and named ~= meta.e then base = base_of(named) or 0 end
-- Operations, or the continuation of a snapshot, only while the log holds what followed.
local in_log = named ~= '' and after ~= nil and after + 1 >= meta.lf and after <= (base or meta.s)
if in_log and cursor == 0 then
  local entries = redis.call('LRANGE', L, after + 1 - meta.lf, -1)
  return { meta.e, meta.s, rotated and 1 or 0, base or -1, 'ops', '[' .. table.concat(entries, ',') .. ']' }
end
if not in_log or cursor == 0 then cursor = math.huge end
local live = {}
for page in string.gmatch(meta.L, '%d+') do live[#live + 1] = tonumber(page) end
local reply = { meta.e, meta.s, rotated and 1 or 0, base or -1, 'snapshot', 0 }
local used, last = 0, nil
for position = #live, 1, -1 do
  local page = live[position]
  if page < cursor then
    local text = page_text(page)
    if text ~= '' then
      if used >= budget then
        reply[6] = last
        break
      end
      reply[#reply + 1] = page
      reply[#reply + 1] = k_of(page)
      reply[#reply + 1] = text
      used = used + #text
      last = page
    end
  end
end
return reply
`;

// KEYS: the board's five keys, then its presence hash. ARGV[7]: instance id; [8]: this instance's count ('' to only
// read); [9]: entry TTL ms. Each instance keeps one entry "count:expiresAtMs" (Redis's clock); entries of instances
// that stopped refreshing (killed) expire. Presence may give the board a new epoch (so that \`head\` tells clients of a
// loss even when nobody writes), but does not keep the board alive. Returns {total count, board seq, epoch}.
const PRESENCE = `#!lua
${PRELUDE}
local PR = KEYS[6]
load_meta(false)
save()
local clock = redis.call('TIME')
local now_ms = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local entry_ttl = tonumber(ARGV[9])
if ARGV[8] == '0' then
  redis.call('HDEL', PR, ARGV[7])
elseif ARGV[8] ~= '' then
  redis.call('HSET', PR, ARGV[7], ARGV[8] .. ':' .. (now_ms + entry_ttl))
  redis.call('PEXPIRE', PR, entry_ttl)
end
local total = 0
local entries = redis.call('HGETALL', PR)
for i = 1, #entries, 2 do
  local count, expires_at = string.match(entries[i + 1], '^(%d+):(%d+)$')
  if count and tonumber(expires_at) > now_ms then
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

/** What every board script returns: an array of bulk strings and integers (the store reads it, ./redis-board-store.ts). */
type Mixed = (string | number)[];

export const boardScripts = {
  wbDraw: script<Mixed>(DRAW, 5),
  wbSetVisibility: script<Mixed>(SET_VISIBILITY, 5),
  wbEdit: script<Mixed>(EDIT, 5),
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
