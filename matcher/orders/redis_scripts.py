"""The Lua scripts ``RedisOrderStore`` runs; each is one atomic step on the Redis server.

Every script checks everything first (order version, holds, balance guard) and writes only
when all checks passed, so a refused step leaves no trace. Key names follow the table in
``matcher.orders.redis_store``; every key a script touches is passed in ``KEYS``.

The ledger part is shared by ``COMMIT`` and ``POST``. Its arguments, starting at ``a``:
txn id, kind (1 earned, 2 redeemed), branch id, guard account ("" for none), guard minutes,
minutes moved, number of postings n, then n times (account, minutes, entry text). Its keys:
balance hash, posted set, ledger list and branch figures hash from ``k``, and one entry list
per posting's account from ``ak`` (its items are ``<sequence> <entry text>``).
"""

from __future__ import annotations

_LEDGER = r"""
-- Whether the transaction at ARGV[a..] was posted before, and the guard's refusal if any.
local function ledger_check(a, k)
  if redis.call('SISMEMBER', KEYS[k + 1], ARGV[a]) == 1 then return 'posted', nil end
  local guard = ARGV[a + 3]
  if guard ~= '' then
    local balance = tonumber(redis.call('HGET', KEYS[k], guard) or '0')
    if balance < tonumber(ARGV[a + 4]) then
      return 'short', {'short', guard, tostring(balance), ARGV[a + 4]}
    end
  end
  return 'ok', nil
end

-- Append the transaction's entries and update balances and branch figures; the per-account
-- entry lists are KEYS[ak], KEYS[ak + 1], ...
local function ledger_post(a, k, ak)
  local txn, kind, branch, moved = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 5]
  redis.call('SADD', KEYS[k + 1], txn)
  local n = tonumber(ARGV[a + 6])
  for i = 1, n do
    local b = a + 7 + (i - 1) * 3
    local seq = redis.call('RPUSH', KEYS[k + 2], ARGV[b + 2])
    redis.call('RPUSH', KEYS[ak + i - 1], seq .. ' ' .. ARGV[b + 2])
    redis.call('HINCRBY', KEYS[k], ARGV[b], ARGV[b + 1])
  end
  if kind == '1' then
    redis.call('HINCRBY', KEYS[k + 3], branch .. '\t' .. 'earned', moved)
    redis.call('HINCRBY', KEYS[k + 3], branch .. '\t' .. 'orders', 1)
  else
    redis.call('HINCRBY', KEYS[k + 3], branch .. '\t' .. 'redeemed', moved)
  end
end
"""

#: KEYS[1] order, KEYS[2] its state set. ARGV: order text (version 1), created_ms, order id.
#: Returns {1} when created, {0, stored text} when the id existed.
CREATE = r"""
local found = redis.call('GET', KEYS[1])
if found then return {0, found} end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return {1}
"""

#: KEYS: 1 order, 2 old state set, 3 new state set, 4 held-volunteers set, 5..8 the ledger's
#: fixed keys, then a hold hash and an offered set per added hold, a hold hash per released
#: hold, then the ledger's per-account lists. ARGV: 1 order id, 2 expected version, 3 new
#: text, 4 created_ms, 5 now_ms, 6 adds, 7 releases, 8 has transaction (0/1), then per add
#: (volunteer, hold id, start, end, deadline_ms), per release (volunteer, hold id), then the
#: ledger arguments. Returns {"ok"}, {"missing"}, {"stale", version}, {"held", volunteer,
#: hold id} or {"short", account, balance, needed}.
COMMIT = (
    _LEDGER
    + r"""
local raw = redis.call('GET', KEYS[1])
if not raw then return {'missing'} end
local stored = string.match(raw, '^{"ver":(%d+),')
if tonumber(stored) ~= tonumber(ARGV[2]) then return {'stale', stored} end
local now, n_add, n_rel = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local released = {}
for i = 1, n_rel do
  local a = 9 + n_add * 5 + (i - 1) * 2
  released[ARGV[a] .. '\n' .. ARGV[a + 1]] = true
end
for i = 1, n_add do
  local a = 9 + (i - 1) * 5
  local vol, id, s, e = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local all = redis.call('HGETALL', KEYS[8 + (i - 1) * 2 + 1])
  for j = 1, #all, 2 do
    local other = all[j]
    if other ~= id and not released[vol .. '\n' .. other] then
      local os, oe, od = string.match(all[j + 1], '^(%-?%d+) (%-?%d+) (%d+)$')
      os, oe, od = tonumber(os), tonumber(oe), tonumber(od)
      if (od == 0 or od > now) and os < e and s < oe then return {'held', vol, other} end
    end
  end
end
local ledger_arg = 9 + n_add * 5 + n_rel * 2
local account_keys = 8 + n_add * 2 + n_rel + 1
local post = false
if ARGV[8] == '1' then
  local verdict, refusal = ledger_check(ledger_arg, 5)
  if verdict == 'short' then return refusal end
  post = verdict == 'ok'
end
for i = 1, n_rel do
  local a = 9 + n_add * 5 + (i - 1) * 2
  local key = KEYS[8 + n_add * 2 + i]
  redis.call('HDEL', key, ARGV[a + 1])
  if redis.call('HLEN', key) == 0 then redis.call('SREM', KEYS[4], ARGV[a]) end
end
for i = 1, n_add do
  local a = 9 + (i - 1) * 5
  local k = 8 + (i - 1) * 2
  local value = ARGV[a + 2] .. ' ' .. ARGV[a + 3] .. ' ' .. ARGV[a + 4]
  redis.call('HSET', KEYS[k + 1], ARGV[a + 1], value)
  redis.call('SADD', KEYS[4], ARGV[a])
  redis.call('ZADD', KEYS[k + 2], 'NX', now, ARGV[1])
end
if post then ledger_post(ledger_arg, 5, account_keys) end
redis.call('SET', KEYS[1], ARGV[3])
if KEYS[2] ~= KEYS[3] then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
end
return {'ok'}
"""
)

#: KEYS: the ledger's keys (from 1). ARGV: the ledger arguments (from 1). Returns {"ok"},
#: {"posted"} (the transaction was posted before) or {"short", account, balance, needed}.
POST = (
    _LEDGER
    + r"""
local verdict, refusal = ledger_check(1, 1)
if verdict == 'short' then return refusal end
if verdict == 'posted' then return {'posted'} end
ledger_post(1, 1, 5)
return {'ok'}
"""
)
