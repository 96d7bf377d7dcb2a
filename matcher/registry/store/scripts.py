"""The Lua scripts ``RedisStore`` runs: every multi-key write, and the reads that must be atomic.

Each write is one script, so Redis applies it whole or not at all. The scripts fail (if they
fail) before their first write: the checks and the ``XADD`` (the only write that can be
refused, e.g. under ``maxmemory``) come first. Key names follow the table in
``matcher.registry.store.redis``; ``record_key`` below builds them exactly as
``RedisStore._record_key`` does, with the same ``hash_tag`` (``matcher.ids.LUA_HASH_TAG``).
A record's old key (before a branch move) is found through the branch index inside the
script, so it is not declared in ``KEYS``: fine on a single Redis, and the one thing a move
to Redis Cluster has to revisit.

Shared arguments: ``KEYS[1]`` branch index, ``KEYS[2]`` registry version, ``KEYS[3]`` change
stream; ``ARGV[1]`` key prefix.
"""

from __future__ import annotations

from matcher.ids import LUA_HASH_TAG

_COMMON = (
    LUA_HASH_TAG
    + r"""
local index, version_key, stream, prefix = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
local META = '^{"v":(%d+),"c":(%d+),"u":(%d+),(.*)$'

local function record_key(branch, id)
  return prefix .. ':vol:' .. hash_tag(branch) .. ':' .. id
end

-- The stored text of a volunteer (false if absent) and its key (nil if not indexed).
local function read(id)
  local branch = redis.call('HGET', index, id)
  if not branch then return false, nil end
  local key = record_key(branch, id)
  return redis.call('GET', key), key
end

-- Count one write call that changed `ids`: returns the new registry version.
local function log_write(op, ids, maxlen)
  local version = tonumber(redis.call('GET', version_key) or '0') + 1
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, version .. '-0',
             'op', op, 'ids', cjson.encode(ids))
  redis.call('SET', version_key, version)
  return version
end
"""
)

#: KEYS[4..]: the new key of each record. ARGV[2]: change log length, then per record
#: (id, branch, body, expected version or ""). Returns {"ok", registry version, then
#: version, created_ms, updated_ms per record} or {"conflict", id, expected, stored}.
UPSERT = (
    _COMMON
    + r"""
local n = #KEYS - 3
local olds, changed = {}, {}
for i = 1, n do
  local a = 2 + (i - 1) * 4
  local id, body, expected = ARGV[a + 1], ARGV[a + 3], ARGV[a + 4]
  local raw, key = read(id)
  local old = {v = '0', key = key}
  if raw then
    old.v, old.c, old.u, old.body = string.match(raw, META)
    if not old.v then return redis.error_reply('corrupt record at ' .. key) end
  end
  if expected ~= '' and tonumber(expected) ~= tonumber(old.v) then
    return {'conflict', id, expected, old.v}
  end
  olds[i] = old
  if old.body ~= body then changed[#changed + 1] = id end
end
local out = {'ok', tonumber(redis.call('GET', version_key) or '0')}
if #changed > 0 then out[2] = log_write('upsert', changed, ARGV[2]) end
local t = redis.call('TIME')
local now = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000))
for i = 1, n do
  local a = 2 + (i - 1) * 4
  local id, branch, body = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local old, key = olds[i], KEYS[3 + i]
  if old.body == body then
    out[#out + 1], out[#out + 2], out[#out + 3] = old.v, old.c, old.u
  else
    local v, c = tostring(tonumber(old.v) + 1), old.c or now
    if old.key and old.key ~= key then redis.call('DEL', old.key) end
    redis.call('SET', key, '{"v":' .. v .. ',"c":' .. c .. ',"u":' .. now .. ',' .. body)
    redis.call('HSET', index, id, branch)
    out[#out + 1], out[#out + 2], out[#out + 3] = v, c, now
  end
end
return out
"""
)

#: ARGV[2]: change log length, ARGV[3]: id, ARGV[4]: expected version or "". Returns
#: {"ok", deleted text or false} or {"conflict", id, expected, stored}.
DELETE = (
    _COMMON
    + r"""
local id, expected = ARGV[3], ARGV[4]
local raw, key = read(id)
local stored = '0'
if raw then stored = string.match(raw, '^{"v":(%d+),') end
if expected ~= '' and tonumber(expected) ~= tonumber(stored) then
  return {'conflict', id, expected, stored}
end
if not key then return {'ok', false} end
log_write('delete', {id}, ARGV[2])
redis.call('DEL', key)
redis.call('HDEL', index, id)
return {'ok', raw}
"""
)

#: ARGV[2..]: ids. Returns the stored text of each (false where absent).
READ = (
    _COMMON
    + r"""
local out = {}
for i = 2, #ARGV do out[i - 1] = read(ARGV[i]) end
return out
"""
)

#: ARGV[2]: the reader's registry version, ARGV[3]: change log length. Returns {current
#: version, 1, then (id, text or false) per touched id} or {current version, 0} when the log
#: does not reach back (a reader ahead of the store counts as that too).
CHANGES = (
    _COMMON
    + r"""
local current = tonumber(redis.call('GET', version_key) or '0')
local since = tonumber(ARGV[2])
if since == current then return {current, 1} end
if since > current or current - since > tonumber(ARGV[3]) then return {current, 0} end
local first = (since + 1) .. '-0'
local entries = redis.call('XRANGE', stream, first, '+')
if #entries == 0 or entries[1][1] ~= first then return {current, 0} end
local out, seen = {current, 1}, {}
for _, entry in ipairs(entries) do
  local fields = entry[2]
  for f = 1, #fields, 2 do
    if fields[f] == 'ids' then
      for _, id in ipairs(cjson.decode(fields[f + 1])) do
        if not seen[id] then
          seen[id] = true
          out[#out + 1], out[#out + 2] = id, read(id)
        end
      end
    end
  end
end
return out
"""
)
