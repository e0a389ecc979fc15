"""The Lua scripts behind the consumer's lease, takeover and clean-up steps.

Each is a check-then-act that must be atomic: renewing a lease only on entries this
consumer still owns, taking over idle entries together with their delivery counts (and
the ids of entries trimmed meanwhile, which plain XAUTOCLAIM on Redis 6.2 replies as nil),
and forgetting a consumer only while it holds nothing. Every script touches one key
except REPLAY. ``redis.replicate_commands()`` lets Redis 6.2 run writes after the
non-deterministic stream commands (it is the default, and a no-op, from Redis 7).
"""

from __future__ import annotations

LEASE = """
redis.replicate_commands()
local stream, group, me = KEYS[1], ARGV[1], ARGV[2]
local bump = ARGV[3] == "1" and 1 or 0
local owned, counts = {}, {}
for i = 4, #ARGV do
  local p = redis.call("XPENDING", stream, group, ARGV[i], ARGV[i], 1)[1]
  if p and p[2] == me then
    owned[#owned + 1] = ARGV[i]
    counts[#counts + 1] = p[4] + bump
  end
end
if #owned == 0 then return {} end
local claim = {"XCLAIM", stream, group, me, 0}
for _, id in ipairs(owned) do claim[#claim + 1] = id end
if bump == 0 then claim[#claim + 1] = "JUSTID" end
redis.call(unpack(claim))
local out = {}
for i, id in ipairs(owned) do
  out[#out + 1] = id
  out[#out + 1] = counts[i]
end
return out
"""
"""KEYS: stream. ARGV: group, consumer, "1" to count a delivery (a retry) or "0" (a
lease renewal: JUSTID, the count stays), entry ids. Claims only the ids this consumer
still owns, resetting their idle time; replies ``[id, deliveries, ...]`` for those."""

TAKE_OVER = """
redis.replicate_commands()
local stream, group, me = KEYS[1], ARGV[1], ARGV[2]
local r = redis.call("XAUTOCLAIM", stream, group, me, ARGV[3], ARGV[4], "COUNT", ARGV[5], "JUSTID")
local out = {r[1]}
for _, id in ipairs(r[2]) do
  local entry = redis.call("XCLAIM", stream, group, me, 0, id)[1]
  local p = redis.call("XPENDING", stream, group, id, id, 1)[1]
  out[#out + 1] = {id, p and p[4] or 0, entry and entry[2] or false}
end
for _, id in ipairs(r[3] or {}) do out[#out + 1] = {id, 0, false} end
return out
"""
"""KEYS: stream. ARGV: group, consumer, min idle ms, cursor, count. Takes over entries
idle that long (a dead or stopped consumer's), counting one delivery each; replies
``[next cursor, [id, deliveries, fields or nil], ...]`` (nil: trimmed from the stream)."""

FORGET = """
redis.replicate_commands()
local removed = {}
for _, c in ipairs(redis.call("XINFO", "CONSUMERS", KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if info.pending == 0 and info.idle >= tonumber(ARGV[2])
      and (ARGV[3] == "" or info.name == ARGV[3]) then
    redis.call("XGROUP", "DELCONSUMER", KEYS[1], ARGV[1], info.name)
    removed[#removed + 1] = info.name
  end
end
return removed
"""
"""KEYS: stream. ARGV: group, min idle ms, a consumer name or "" for any. Deletes the
matching consumers that hold no pending entry (so nothing is lost) and have been idle
that long; replies their names."""

REPLAY = """
redis.replicate_commands()
local entry = redis.call("XRANGE", KEYS[1], ARGV[1], ARGV[1])[1]
if not entry then return false end
local fields = {}
for i = 1, #entry[2], 2 do
  local name = entry[2][i]
  if name ~= "error" and name ~= "failed_group" and name ~= "attempts"
      and name ~= "stream_id" then
    fields[#fields + 1] = name
    fields[#fields + 1] = entry[2][i + 1]
  end
end
if #fields == 0 then return redis.error_reply("nothing to replay in " .. ARGV[1]) end
local id = redis.call("XADD", KEYS[2], "*", unpack(fields))
redis.call("XDEL", KEYS[1], ARGV[1])
return id
"""
"""KEYS: dead-letter stream, topic stream. ARGV: dead-letter entry id. Publishes the
entry again without its dead-letter annotations (same event id) and removes it from the
dead-letter stream; replies the new entry id, or nil when there is no such entry.
docs/events.md quotes it for redis-cli."""
