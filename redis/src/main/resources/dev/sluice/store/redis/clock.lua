-- Shared prelude of decide.lua and abuse.lua: DecisionScript.readScript prepends it to each script
-- when the script is loaded, so both read the server's clock the same way.

if redis.replicate_commands then
  pcall(redis.replicate_commands) -- Redis 5/6: replicate effects, needed after TIME; no-op on 7+
end

-- The instant a script decides at, as (sec, now): the current TIME second and the nanoseconds
-- within it. mode "" in production (the server's TIME); tests only: "plus" = TIME shifted forward
-- by value, "at" = exactly value, where value is "seconds:nanoseconds".
local function server_clock(mode, value)
  local sec, now
  if mode == 'at' then
    local s, ns = string.match(value, '^(-?%d+):(%d+)$')
    sec = tonumber(s)
    now = tonumber(ns)
  else
    local t = redis.call('TIME')
    sec = tonumber(t[1])
    now = tonumber(t[2]) * 1000
    if mode == 'plus' then
      local s, ns = string.match(value, '^(%d+):(%d+)$')
      sec = sec + tonumber(s)
      now = now + tonumber(ns)
      if now >= 1000000000 then sec = sec + 1; now = now - 1000000000 end
    end
  end
  return sec, now
end
