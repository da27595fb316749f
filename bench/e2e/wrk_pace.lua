-- Open-loop pacing for wrk (which has no rate option): each thread hands out
-- send slots every 1000/rate_per_thread ms, and delay() makes the calling
-- connection wait for its slot. Arguments after "--": rate_per_thread=N.
-- wrk's timers have millisecond resolution, so requests leave in small
-- bursts on each millisecond tick; the average rate is exact. When every
-- connection is busy the schedule may fall behind by 5 ms at most (slots
-- older than that are skipped), so an overloaded server shows a lower
-- achieved rate rather than a burst of catch-up requests.
-- wrk opens all its connections at once when it starts; were their first
-- requests sent at once too, every run would begin with HAProxy opening a
-- connection to the primary for each of them (a new client connection's
-- first request never reuses another's), a burst that made up most of the
-- slowest 1 % of a 3-5 s run. With stagger_ms=M and connections_per_thread=N,
-- the N first requests leave spread over the first M ms instead (the i-th
-- after i * M / N ms), outside the schedule, as connections arrive at a
-- real proxy; the later ones follow the schedule.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } e2e_timespec;
int clock_gettime(int clk_id, e2e_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("e2e_timespec")
local interval_ms = 0
local next_ms = nil
local stagger_ms, first_requests, first_seen = 0, 0, 0

local function now_ms()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
   return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

function init(args)
   for _, a in ipairs(args) do
      local v = a:match("^rate_per_thread=([%d.]+)$")
      if v and tonumber(v) > 0 then
         interval_ms = 1000 / tonumber(v)
      end
      stagger_ms = tonumber(a:match("^stagger_ms=(%d+)$") or stagger_ms)
      first_requests = tonumber(a:match("^connections_per_thread=(%d+)$") or first_requests)
   end
end

function delay()
   if first_seen < first_requests and stagger_ms > 0 then
      first_seen = first_seen + 1
      return math.floor(stagger_ms * first_seen / first_requests)
   end
   local now = now_ms()
   if next_ms == nil or next_ms < now - 5 then
      next_ms = math.max(next_ms or now, now - 5)
   end
   local slot = next_ms
   next_ms = next_ms + interval_ms
   local d = slot - now
   if d <= 0 then
      return 0
   end
   return math.floor(d + 0.5)
end
