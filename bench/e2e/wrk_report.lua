-- wrk done() hook for bench/run_e2e.sh: prints one line
--   E2E_RESULT {json}
-- with the exact latency percentiles (wrk keeps one counter per microsecond,
-- so latency:percentile() is exact, not an estimate), the error counts, and
-- how many requests took longer than each threshold in SLOW_MS (read from the
-- raw latency distribution: latency(i) returns the i-th distinct value and
-- its count). Latencies are in microseconds.
local SLOW_MS = { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 }

function done(summary, latency, requests)
   local slow = {}
   for _, ms in ipairs(SLOW_MS) do
      slow[#slow + 1] = 0
   end
   for i = 1, #latency do
      local value, count = latency(i)
      for k, ms in ipairs(SLOW_MS) do
         if value > ms * 1000 then
            slow[k] = slow[k] + count
         end
      end
   end
   local slow_parts = {}
   for k, ms in ipairs(SLOW_MS) do
      slow_parts[#slow_parts + 1] = string.format('"%d":%d', ms, slow[k])
   end
   local e = summary.errors
   io.write(string.format(
      'E2E_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"min":%d,"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d},' ..
      '"slower_than_ms":{%s}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9), latency.max,
      table.concat(slow_parts, ",")))
end
