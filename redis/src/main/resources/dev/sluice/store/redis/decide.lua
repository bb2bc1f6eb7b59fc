-- Sluice decision script, key layout v1. One call = one decision for one bucket (all its limits),
-- atomic because Redis runs a script alone. It mirrors dev.sluice.algorithm.Gcra and
-- dev.sluice.algorithm.SlidingWindow step for step; see docs/distributed.md.
--
-- KEYS[i]   one key per limit, all with the same {policy:identity} hash tag (one cluster slot)
-- ARGV[1]   "gcra" | "window"
-- ARGV[2]   cost (tokens)
-- ARGV[3]   "" in production: now = the server's TIME. Tests only: "plus" = TIME shifted forward
--           by ARGV[4], or "at" = exactly ARGV[4] (to compare with the memory store to the ns)
-- ARGV[4]   "seconds:nanoseconds" for the test modes, else the empty string
-- then per limit i, three numbers at ARGV[2 + 3i .. 4 + 3i]:
--   gcra:   T (emission interval ns), capacity (burst * T ns), cost * T (ns)
--   window: period (ns), N, unused
--
-- Reload migration (a policy's limits changed; see docs/algorithms.md): ARGV[1] is "gcra+" or
-- "window+", KEYS holds 2n keys — the bucket's n keys, then per limit the key of the old limit it
-- takes its state from (same hash tag) — and ARGV[5 + 3n .. 4 + 4n] says per limit:
--   gcra:   the old limit's T (ns), or 0 for no source: a missing key starts with the old key's
--           used tokens, ceil(debt_old / T_old), times the new T, capped at the new capacity
--   window: "1" to copy the old key's newest N entries into a missing key, "0" for no source
--
-- Reply: { allowed (1|0), denied limit (0-based, -1 if allowed), retry-after ns,
--          then per limit: remaining tokens, ns to next token, ns to full }
--
-- Numbers: Lua numbers are doubles, exact for integers below 2^53. Absolute nanoseconds since
-- 1970 (~1.8e18) are not, so time is kept relative to the current TIME second `sec`:
-- now = microseconds * 1000 (< 1e9), and stored instants are "seconds:nanoseconds" strings turned
-- into (seconds - sec) * 1e9 + nanoseconds. Every value computed is then an integer within
-- +-2^53 ns (~104 days) of now, because the caller refuses limits whose capacity (gcra) or period
-- (window) exceed 2^53 ns, and a key expires as soon as its bucket is full again.
-- Every write sets a TTL (SET PX, PEXPIRE): no key ever lives without one.

local sec, now = server_clock(ARGV[3], ARGV[4]) -- clock.lua, prepended at load

local algorithm = ARGV[1]
local cost = tonumber(ARGV[2])
local n = #KEYS
local migrating = false
if algorithm == 'gcra+' or algorithm == 'window+' then
  migrating = true
  algorithm = string.sub(algorithm, 1, -2)
  n = n / 2
end
local BILLION = 1000000000

-- "seconds:nanoseconds" -> ns relative to sec
local function decode(v)
  local s, ns = string.match(v, '^(-?%d+):(%d+)$')
  return (tonumber(s) - sec) * BILLION + tonumber(ns)
end

-- ns relative to sec (>= 0 here: instants written are >= now >= 0) -> "seconds:nanoseconds"
local function encode(rel)
  local s = math.floor(rel / BILLION)
  local ns = rel - s * BILLION
  if ns < 0 then s = s - 1; ns = ns + BILLION elseif ns >= BILLION then s = s + 1; ns = ns - BILLION end
  return string.format('%d:%d', sec + s, ns)
end

-- exact floor division and remainder of non-negative integers below 2^53
local function divmod(a, b)
  local q = math.floor(a / b)
  local r = a - q * b
  if r < 0 then q = q - 1; r = r + b elseif r >= b then q = q + 1; r = r - b end
  return q, r
end

-- TTL in whole milliseconds, rounded up, so a key never expires before its bucket is full
local function ttl_ms(nanos)
  local q, r = divmod(nanos, 1000000)
  if r > 0 then q = q + 1 end
  if q < 1 then q = 1 end
  return q
end

local denied = -1
local longest = 0
local reply = {0, -1, 0}

if algorithm == 'gcra' then
  local debts = {}
  for i = 1, n do
    local capacity = tonumber(ARGV[3 + 3 * i])
    local cost_ns = tonumber(ARGV[4 + 3 * i])
    local v = redis.call('GET', KEYS[i])
    local debt = 0
    if v then
      local tat = decode(v)
      if tat > now then debt = tat - now end
    elseif migrating and tonumber(ARGV[4 + 3 * n + i]) > 0 then
      local old = redis.call('GET', KEYS[n + i])
      if old then
        local old_tat = decode(old)
        if old_tat > now then
          local used, partial = divmod(old_tat - now, tonumber(ARGV[4 + 3 * n + i]))
          if partial > 0 then used = used + 1 end
          debt = used * tonumber(ARGV[2 + 3 * i])
          if debt > capacity then debt = capacity end
        end
      end
    end
    debts[i] = debt
    local wait = debt + cost_ns - capacity
    if wait > longest then longest = wait; denied = i - 1 end
  end
  for i = 1, n do
    local interval = tonumber(ARGV[2 + 3 * i])
    local capacity = tonumber(ARGV[3 + 3 * i])
    local debt = debts[i]
    if denied < 0 then
      debt = debt + tonumber(ARGV[4 + 3 * i])
      redis.call('SET', KEYS[i], encode(now + debt), 'PX', ttl_ms(debt))
    end
    local remaining = divmod(capacity - debt, interval)
    if remaining < 0 then remaining = 0 end -- only if the server clock stepped back
    local next_token = 0
    if debt > 0 then
      local _, partial = divmod(debt, interval)
      if partial == 0 then next_token = interval else next_token = partial end
    end
    reply[1 + 3 * i] = remaining
    reply[2 + 3 * i] = next_token
    reply[3 + 3 * i] = debt
  end
elseif algorithm == 'window' then
  -- The list holds the timestamps of admitted tokens, oldest first (one entry per token).
  local ats = {}
  for i = 1, n do
    local period = tonumber(ARGV[2 + 3 * i])
    local quantity = tonumber(ARGV[3 + 3 * i])
    local key = KEYS[i]
    local at = now
    if migrating and ARGV[4 + 3 * n + i] == '1' and redis.call('EXISTS', key) == 0 then
      local entries = redis.call('LRANGE', KEYS[n + i], -quantity, -1)
      for k = 1, #entries, 1000 do
        redis.call('RPUSH', key, unpack(entries, k, math.min(k + 999, #entries)))
      end
      if #entries > 0 then
        redis.call('PEXPIRE', key, ttl_ms(decode(entries[#entries]) + period - now))
      end
    end
    local newest = redis.call('LINDEX', key, -1)
    if newest then
      newest = decode(newest)
      if newest > at then at = newest end -- server clock stepped back: keep the log sorted
    end
    ats[i] = at
    -- Entries a period old no longer count; dropping them changes no decision and bounds memory.
    while true do
      local oldest = redis.call('LINDEX', key, 0)
      if not oldest or at - decode(oldest) < period then break end
      redis.call('LPOP', key)
    end
    -- Conforms iff the (N - cost + 1)-th most recent entry is gone (all remaining ones are live).
    local index = redis.call('LLEN', key) - (quantity - cost) - 1
    if index >= 0 then
      local wait = decode(redis.call('LINDEX', key, index)) + period - now
      if wait > longest then longest = wait; denied = i - 1 end
    end
  end
  for i = 1, n do
    local period = tonumber(ARGV[2 + 3 * i])
    local quantity = tonumber(ARGV[3 + 3 * i])
    local key = KEYS[i]
    if denied < 0 then
      local stamp = encode(ats[i])
      local left = cost
      while left > 0 do -- RPUSH in chunks: unpack() of a huge table overflows Lua's C stack
        local chunk = {}
        for k = 1, math.min(left, 1000) do chunk[k] = stamp end
        redis.call('RPUSH', key, unpack(chunk))
        left = left - #chunk
      end
      redis.call('LTRIM', key, -quantity, -1)
      redis.call('PEXPIRE', key, ttl_ms(ats[i] + period - now))
    end
    local size = redis.call('LLEN', key)
    local next_token = 0
    local full = 0
    if size > 0 then
      next_token = decode(redis.call('LINDEX', key, 0)) + period - now
      full = decode(redis.call('LINDEX', key, -1)) + period - now
      if full < 0 then full = 0 end
    end
    reply[1 + 3 * i] = quantity - size
    reply[2 + 3 * i] = next_token
    reply[3 + 3 * i] = full
  end
else
  return redis.error_reply('ERR sluice: unknown algorithm ' .. tostring(algorithm))
end

if denied < 0 then
  reply[1] = 1
else
  reply[2] = denied
  reply[3] = longest
end
return reply
