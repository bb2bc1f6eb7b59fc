-- Sluice abuse-control script, key layout v1 (SPEC §7): refunds, offence counts, bans and
-- concurrency permits. One call = one operation, atomic because Redis runs a script alone. Each
-- operation mirrors dev.sluice.store.MemoryStore; see docs/distributed.md, "Abuse control".
--
-- ARGV[1]   the operation: refund | offence | forget | permit_acquire | permit_release | ban_put |
--           ban_remove | ban_list
-- ARGV[2]   "" in production: now = the server's TIME. Tests only: "plus" = TIME shifted forward
--           by ARGV[3], or "at" = exactly ARGV[3] (same seam as decide.lua's ARGV[3..4])
-- ARGV[3]   "seconds:nanoseconds" for the test modes, else the empty string
-- ARGV[4..] the operation's own arguments, documented with each operation below.
--
-- Numbers: as in decide.lua, instants inside the script are nanoseconds relative to the current
-- TIME second `sec` (exact doubles), stored as "seconds:nanoseconds" strings. Sorted-set scores
-- are absolute: permit leases in microseconds and ban expiry in milliseconds since the epoch,
-- both exact below 2^53. Numbers handed to Redis go through fmt() (%d), never Lua's default
-- number-to-string conversion, which keeps only 14 significant digits.
-- Every key written gets a TTL (SET PX, PEXPIRE) in the same call.

local sec, now = server_clock(ARGV[2], ARGV[3]) -- clock.lua, prepended at load

local BILLION = 1000000000
-- The longest TTL ever set: ~317 years. Only a ban "forever" (expiry near Long.MAX_VALUE) or an
-- absurd offence window reaches it; PEXPIRE would reject an overflowing time.
local MAX_TTL_MS = 10000000000000

-- "seconds:nanoseconds" -> ns relative to sec
local function decode(v)
  local s, ns = string.match(v, '^(-?%d+):(%d+)$')
  return (tonumber(s) - sec) * BILLION + tonumber(ns)
end

-- ns relative to sec -> "seconds:nanoseconds"
local function encode(rel)
  local s = math.floor(rel / BILLION)
  local ns = rel - s * BILLION
  if ns < 0 then s = s - 1; ns = ns + BILLION elseif ns >= BILLION then s = s + 1; ns = ns - BILLION end
  return string.format('%d:%d', sec + s, ns)
end

local function fmt(number)
  return string.format('%d', number)
end

-- exact floor division and remainder of non-negative integers below 2^53
local function divmod(a, b)
  local q = math.floor(a / b)
  local r = a - q * b
  if r < 0 then q = q - 1; r = r + b elseif r >= b then q = q + 1; r = r - b end
  return q, r
end

-- TTL in whole milliseconds, rounded up (a key never expires before its state is worthless),
-- at least 1 and at most MAX_TTL_MS
local function ttl_ms(nanos)
  local q, r = divmod(nanos, 1000000)
  if r > 0 then q = q + 1 end
  if q < 1 then q = 1 end
  if q > MAX_TTL_MS then q = MAX_TTL_MS end
  return fmt(q)
end

-- microseconds / milliseconds since the epoch (or since the test clock's zero in "at" mode)
local function now_us()
  return sec * 1000000 + math.floor(now / 1000)
end

local function now_ms()
  return sec * 1000 + math.floor(now / 1000000)
end

local op = ARGV[1]

if op == 'refund' then
  -- Gives back `cost` tokens of an admitted decision, exactly like MemoryStore.refund.
  -- KEYS     the bucket's keys, as for decide.lua
  -- ARGV[4]  "gcra" | "window";  ARGV[5] cost
  -- per limit i, ARGV[3 + 3i .. 5 + 3i]: the same three numbers decide.lua takes
  --   gcra: T, capacity, cost * T (ns);  window: period (ns), N, unused
  -- Reply: 1
  local algorithm = ARGV[4]
  local cost = tonumber(ARGV[5])
  if algorithm ~= 'gcra' and algorithm ~= 'window' then
    return redis.error_reply('ERR sluice: unknown algorithm ' .. tostring(algorithm))
  end
  for i = 1, #KEYS do
    local key = KEYS[i]
    if algorithm == 'gcra' then
      -- tat -= cost * T, never below now ("full"); an absent key is a full bucket already.
      local v = redis.call('GET', key)
      if v then
        local tat = decode(v)
        if tat > now then
          local debt = tat - now - tonumber(ARGV[5 + 3 * i])
          if debt > 0 then
            redis.call('SET', key, encode(now + debt), 'PX', ttl_ms(debt))
          else
            redis.call('DEL', key) -- full again: absent, as decide.lua's TTL would have made it
          end
        end
      end
    else
      -- Remove the newest `cost` entries; the TTL then follows the newest entry left.
      local period = tonumber(ARGV[3 + 3 * i])
      local size = redis.call('LLEN', key)
      if size > 0 then
        if cost >= size then
          redis.call('DEL', key)
        else
          redis.call('LTRIM', key, 0, size - cost - 1)
          local left = decode(redis.call('LINDEX', key, -1)) + period - now
          if left > 0 then
            redis.call('PEXPIRE', key, ttl_ms(left))
          else
            redis.call('DEL', key) -- every entry left is a period old: none counts any more
          end
        end
      end
    end
  end
  return 1

elseif op == 'offence' then
  -- Records one offence and counts those within the window, like MemoryStore.recordOffence.
  -- KEYS[1]  the offence key: a LIST of "seconds:nanoseconds" stamps, oldest first
  -- ARGV[4]  window (ns);  ARGV[5] most offences remembered (the count saturates there)
  -- Reply: the number of offences within the window, this one included
  local key = KEYS[1]
  local window = tonumber(ARGV[4])
  local keep = tonumber(ARGV[5])
  local at = now
  local newest = redis.call('LINDEX', key, -1)
  if newest then
    newest = decode(newest)
    if newest > at then at = newest end -- server clock stepped back: keep the list sorted
  end
  while true do
    local oldest = redis.call('LINDEX', key, 0)
    if not oldest or at - decode(oldest) < window then break end
    redis.call('LPOP', key)
  end
  redis.call('RPUSH', key, encode(at))
  redis.call('LTRIM', key, -keep, -1)
  redis.call('PEXPIRE', key, ttl_ms(at + window - now))
  return redis.call('LLEN', key)

elseif op == 'forget' then
  -- Deletes a bucket's keys or an offence list, like MemoryStore.forgetBucket/forgetOffences:
  -- an operator lifted a ban. KEYS: the keys (one slot).  Reply: how many existed
  return redis.call('DEL', unpack(KEYS))

elseif op == 'permit_acquire' then
  -- Takes one of at most `max` permits, like MemoryStore.acquirePermit.
  -- KEYS[1]  the permit key: a ZSET, one member per permit held, score = its lease end (µs)
  -- ARGV[4]  max;  ARGV[5] lease (µs, rounded up);  ARGV[6] a member unique to this acquisition
  -- Reply: 1 when acquired, 0 when all permits are taken
  local key = KEYS[1]
  local t = now_us()
  redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(t)) -- leases ended: a crashed holder's permit
  if redis.call('ZCARD', key) >= tonumber(ARGV[4]) then
    return 0
  end
  redis.call('ZADD', key, fmt(t + tonumber(ARGV[5])), ARGV[6])
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', key, ttl_ms((tonumber(last[2]) - t) * 1000))
  return 1

elseif op == 'permit_release' then
  -- Returns the permit whose lease ends soonest (permits carry no owner), like
  -- MemoryStore.releasePermit: without purging first, so a caller whose own lease already ended
  -- removes that expired entry rather than another holder's live permit.
  -- KEYS[1]  the permit key.  Reply: 1
  redis.call('ZPOPMIN', KEYS[1]) -- the last one out deletes the key
  return 1

else
  -- Bans. KEYS[1] = HASH id -> encoded ban (BanCodec in Java; here only its issuer prefix is
  -- read), KEYS[2] = ZSET id -> expiry (epoch ms), KEYS[3] = STRING version, KEYS[4] = HASH
  -- issuer -> live bans it holds ("o" for operators, "p:<policy>" for a policy's penalties), all
  -- in the {bans} slot. No live ban is ever evicted: a new operator ban beyond its cap, or a new
  -- penalty ban beyond its policy's share, is refused instead (see ban_put). Expired bans are
  -- pruned on every call (ban_list also reads KEYS[5], the generation, in the same slot). Every change (put, remove, prune) sets a new version, "<now>#<n>": the
  -- time of the change makes it unique even after a restart or a failover lost the last changes,
  -- so a client holding a copy of version v may trust it while the version is still v. All three
  -- keys expire with the longest ban.
  local bans, expiry, version, held = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
  local t = now_ms()
  -- the issuer field of an encoded ban: penalty bans start "p<length>:<policy>"
  local function issuer_of(v)
    if string.sub(v, 1, 1) ~= 'p' then return 'o' end
    local len, from = string.match(v, '^p(%d+):()')
    return 'p:' .. string.sub(v, from, from + tonumber(len) - 1)
  end
  local function count(field, delta)
    if redis.call('HINCRBY', held, field, delta) <= 0 then redis.call('HDEL', held, field) end
  end
  local function changed()
    local previous = redis.call('GET', version)
    local n = 0
    if previous then n = tonumber(string.match(previous, '#(%d+)$')) or 0 end
    redis.call('SET', version, encode(now) .. '#' .. fmt(n + 1), 'KEEPTTL')
  end
  local function expire_all()
    local last = redis.call('ZRANGE', expiry, -1, -1, 'WITHSCORES')
    if #last == 0 then
      -- No ban left: the hash and index are gone already. Version "" always means "no ban", so
      -- the version can go too: a copy of an earlier list holds another version and is renewed.
      redis.call('DEL', version)
      redis.call('DEL', held)
      return
    end
    local ttl = ttl_ms((tonumber(last[2]) - t) * 1000000)
    redis.call('PEXPIRE', bans, ttl)
    redis.call('PEXPIRE', expiry, ttl)
    redis.call('PEXPIRE', version, ttl)
    redis.call('PEXPIRE', held, ttl)
  end
  local function prune()
    local expired = redis.call('ZRANGEBYSCORE', expiry, '-inf', fmt(t))
    if #expired == 0 then return end
    for first = 1, #expired, 1000 do -- in chunks: unpack() of a huge table overflows
      local ids = {unpack(expired, first, math.min(first + 999, #expired))}
      local values = redis.call('HMGET', bans, unpack(ids))
      for i = 1, #ids do
        if values[i] then count(issuer_of(values[i]), -1) end
      end
      redis.call('HDEL', bans, unpack(ids))
    end
    redis.call('ZREMRANGEBYSCORE', expiry, '-inf', fmt(t))
    changed()
    expire_all()
  end

  if op == 'ban_put' then
    -- ARGV[4] id;  ARGV[5] expiry (epoch ms);  ARGV[6] the encoded ban;  ARGV[7] most operator
    -- bans held;  ARGV[8] most penalty bans held per policy (its share)
    -- Reply: 1 stored (or, already over, removed the ban with its id); 2 kept: a penalty ban never
    -- replaces a live operator ban; 0 refused: the policy's share is full of live penalty bans;
    -- -1 refused: ARGV[7] operator bans are live. Nothing live is ever evicted.
    prune()
    local id = ARGV[4]
    local field = issuer_of(ARGV[6])
    local previous = redis.call('HGET', bans, id)
    local previous_field = previous and issuer_of(previous)
    if previous_field == 'o' and field ~= 'o' then
      return 2 -- pruned above, so the operator ban is live
    end
    if tonumber(ARGV[5]) <= t then
      -- Already over: it replaces (removes) a ban with the same id and is itself never listed.
      if previous then
        redis.call('HDEL', bans, id)
        redis.call('ZREM', expiry, id)
        count(previous_field, -1)
        changed()
        expire_all()
      end
      return 1
    end
    if previous_field ~= field then
      local cap = tonumber(field == 'o' and ARGV[7] or ARGV[8])
      if tonumber(redis.call('HGET', held, field) or '0') >= cap then
        if field == 'o' then return -1 end
        return 0
      end
      if previous then count(previous_field, -1) end
      count(field, 1)
    end
    redis.call('HSET', bans, id, ARGV[6])
    redis.call('ZADD', expiry, ARGV[5], id)
    changed()
    expire_all()
    return 1

  elseif op == 'ban_remove' then
    -- ARGV[4] id.  Reply: 1 when an unexpired ban was removed, else 0
    local id = ARGV[4]
    local ends = redis.call('ZSCORE', expiry, id)
    if not ends then
      return 0
    end
    local value = redis.call('HGET', bans, id)
    if value then count(issuer_of(value), -1) end
    redis.call('HDEL', bans, id)
    redis.call('ZREM', expiry, id)
    changed()
    expire_all()
    if tonumber(ends) > t then
      return 1
    end
    return 0

  elseif op == 'ban_list' then
    -- KEYS[5] the store's generation: a STRING without TTL, set by the first instance that finds
    -- it missing. It only goes missing when the data set was erased behind Sluice's back
    -- (FLUSHALL/FLUSHDB, a restart without persistence, a failover to an empty replica), so an
    -- instance that sees it change knows every ban and bucket is gone (RedisStore.resets()).
    -- ARGV[4] the version of the caller's copy ("" for none); ARGV[5] the generation to set when
    -- the key is missing.
    -- Reply: {generation, version} when the caller's copy is current (O(1) instead of O(bans)),
    -- else {generation, version, encoded unexpired bans...} (any order); version "" = no ban
    local generation = redis.call('GET', KEYS[5])
    if not generation then
      generation = ARGV[5]
      redis.call('SET', KEYS[5], generation)
    end
    prune()
    local current = redis.call('GET', version) or ''
    if current == ARGV[4] then
      return {generation, current}
    end
    local reply = redis.call('HVALS', bans)
    table.insert(reply, 1, current)
    table.insert(reply, 1, generation)
    return reply
  end
end

return redis.error_reply('ERR sluice: unknown operation ' .. tostring(op))
