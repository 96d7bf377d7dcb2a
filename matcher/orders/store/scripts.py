"""The Lua scripts ``RedisOrderStore`` runs; each is one atomic step on the Redis server.

Every script checks everything first (order version, holds, balance guard) and writes only
when all checks passed, so a refused step leaves no trace. Key names follow the table in
``matcher.orders.store.redis``; every key a script touches is passed in ``KEYS``.

The order-write part is shared by ``COMMIT`` and ``COMMIT_MANY`` (see ``_ORDER``), the ledger
part by ``COMMIT`` and ``POST``. Its arguments, starting at ``a``:
txn id, kind (1 earned, 2 redeemed), branch id, guard account ("" for none), guard minutes,
minutes moved, number of postings n, then n times (account, minutes, entry text). Its keys:
balance hash, posted set, ledger list and branch figures hash from ``k``, and one entry list
per posting's account from ``ak`` (its items are ``<sequence> <entry text>``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matcher.errors import NotFoundError
from matcher.orders.store.base import HoldConflictError, InsufficientBalanceError, StaleOrderError
from matcher.registry.store.redis_base import reply_text

if TYPE_CHECKING:
    from matcher.orders.model import Order

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

_ORDER = r"""
-- An order write: its keys start at KEYS[k] (the order, then a hold hash and an offered set
-- per added hold, then a hold hash per released hold), its arguments at ARGV[a] (order id,
-- expected version, new text, created_ms, new state, adds, releases, then per add
-- (volunteer, hold id, start, end, deadline_ms) and per release (volunteer, hold id)).
-- KEYS[1..7] are the state sets by state number, KEYS[8] the held-volunteers set.

-- How many keys and arguments the write at ARGV[a] takes.
local function order_width(a)
  local n_add, n_rel = tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6])
  return 1 + n_add * 2 + n_rel, 7 + n_add * 5 + n_rel * 2
end

-- The write's refusal ({'missing'}, {'stale', version}, {'held', volunteer, hold id}), or
-- nil and the stored state. Reads only.
local function order_check(k, a, now)
  local raw = redis.call('GET', KEYS[k])
  if not raw then return {'missing'} end
  local stored = string.match(raw, '^{"ver":(%d+),')
  if tonumber(stored) ~= tonumber(ARGV[a + 1]) then return {'stale', stored} end
  local n_add, n_rel = tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6])
  local released = {}  -- volunteer -> {hold id -> true}: nested, no joined text
  for i = 1, n_rel do
    local r = a + 7 + n_add * 5 + (i - 1) * 2
    released[ARGV[r]] = released[ARGV[r]] or {}
    released[ARGV[r]][ARGV[r + 1]] = true
  end
  for i = 1, n_add do
    local h = a + 7 + (i - 1) * 5
    local vol, id, s, e = ARGV[h], ARGV[h + 1], tonumber(ARGV[h + 2]), tonumber(ARGV[h + 3])
    local all = redis.call('HGETALL', KEYS[k + 1 + (i - 1) * 2])
    for j = 1, #all, 2 do
      local other = all[j]
      if other ~= id and not (released[vol] and released[vol][other]) then
        local os, oe, od = string.match(all[j + 1], '^(%-?%d+) (%-?%d+) (%d+)$')
        os, oe, od = tonumber(os), tonumber(oe), tonumber(od)
        if (od == 0 or od > now) and os < e and s < oe then return {'held', vol, other} end
      end
    end
  end
  -- The codec writes the state as "st" at the top level; no string can hold ,"st": unescaped.
  return nil, tonumber(string.match(raw, ',"st":(%d+),'))
end

-- Apply the checked write: release and add the holds, store the text, move the state.
local function order_write(k, a, now, old_state)
  local id, n_add, n_rel = ARGV[a], tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6])
  for i = 1, n_rel do
    local r = a + 7 + n_add * 5 + (i - 1) * 2
    local key = KEYS[k + n_add * 2 + i]
    redis.call('HDEL', key, ARGV[r + 1])
    if redis.call('HLEN', key) == 0 then redis.call('SREM', KEYS[8], ARGV[r]) end
  end
  for i = 1, n_add do
    local h = a + 7 + (i - 1) * 5
    local hk = k + 1 + (i - 1) * 2
    local value = ARGV[h + 2] .. ' ' .. ARGV[h + 3] .. ' ' .. ARGV[h + 4]
    redis.call('HSET', KEYS[hk], ARGV[h + 1], value)
    redis.call('SADD', KEYS[8], ARGV[h])
    redis.call('ZADD', KEYS[hk + 1], 'NX', now, id)
  end
  redis.call('SET', KEYS[k], ARGV[a + 2])
  local new_state = tonumber(ARGV[a + 4])
  if old_state ~= new_state then
    redis.call('ZREM', KEYS[old_state], id)
    redis.call('ZADD', KEYS[new_state], ARGV[a + 3], id)
  end
end
"""

#: KEYS: 1..7 the state sets, 8 held-volunteers set, 9..12 the ledger's fixed keys, then the
#: order write's keys (from 13), then the ledger's per-account lists, then the outbox (last).
#: ARGV: 1 now_ms, 2 has transaction (0/1), then the order write (from 3), then the ledger
#: arguments, then (id, text) per registry effect and their count (last). Returns
#: {"ok"}, {"missing"}, {"stale", version}, {"held", volunteer, hold id} or {"short",
#: account, balance, needed}.
COMMIT = (
    _LEDGER
    + _ORDER
    + r"""
local now = tonumber(ARGV[1])
local refusal, old_state = order_check(13, 3, now)
if refusal then return refusal end
local keys, args = order_width(3)
local post = false
if ARGV[2] == '1' then
  local verdict, short = ledger_check(3 + args, 9)
  if verdict == 'short' then return short end
  post = verdict == 'ok'
end
order_write(13, 3, now, old_state)
if post then ledger_post(3 + args, 9, 13 + keys) end
-- The registry effects into the outbox (the last key): ARGV ends with id, text per effect,
-- then their count.
local n_eff = tonumber(ARGV[#ARGV])
local e = #ARGV - 1 - 2 * n_eff
for i = 1, n_eff do
  redis.call('HSET', KEYS[#KEYS], ARGV[e + 2 * i - 1], ARGV[e + 2 * i])
end
return {'ok'}
"""
)

#: KEYS[1] the outbox. ARGV: effect id, its text as read, its new text. Replaces the effect
#: only if its text is still the one read; returns 1 if it did, else 0.
REPLACE_EFFECT = r"""
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""

#: KEYS: 1..7 the state sets, 8 held-volunteers set, then each write's keys in turn (from
#: 9). ARGV: 1 now_ms, 2 number of writes, then each write's arguments in turn (from 3).
#: Each write is checked and applied on its own; returns one reply per write, as COMMIT's.
COMMIT_MANY = (
    _ORDER
    + r"""
local now, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local k, a = 9, 3
local replies = {}
for w = 1, n do
  local refusal, old_state = order_check(k, a, now)
  if refusal then
    replies[w] = refusal
  else
    order_write(k, a, now, old_state)
    replies[w] = {'ok'}
  end
  local keys, args = order_width(a)
  k, a = k + keys, a + args
end
return replies
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


def raise_refusal(reply: list[Any], order: Order | None) -> None:
    """Raise the error a script's ``reply`` reports (``order``: the one written), if any."""
    verdict = reply_text(reply[0])
    which = order.order_id if order is not None else ""
    if verdict == "missing":
        raise NotFoundError(f"order {which} does not exist")
    if verdict == "stale":
        version = order.version if order is not None else 0
        raise StaleOrderError(
            f"order {which} changed (version {reply_text(reply[1])}, not {version})"
        )
    if verdict == "held":
        raise HoldConflictError(reply_text(reply[1]), reply_text(reply[2]))
    if verdict == "short":
        raise InsufficientBalanceError(reply_text(reply[1]), int(reply[2]), int(reply[3]))
