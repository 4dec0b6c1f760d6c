-- server.lua: wrk script for bench/server. Arguments (after --) are
-- PATH:PERCENT pairs whose percents add up to 100; each wrk thread cycles
-- through a 100-slot plan with a stride of 37 (coprime with 100), so every
-- 100 requests hold each path its percent of times, spread out. response()
-- sorts every answer: 2xx, a 500 from /cpu/crash (its body names the
-- signal), or any other status, which the benchmark requires to be 0.
-- done() prints one "RESULT key=value ..." line for bench/server to read.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  plan = {}
  for _, arg in ipairs(args) do
    local path, percent = arg:match("^(.+):(%d+)$")
    for _ = 1, tonumber(percent) do
      table.insert(plan, path)
    end
  end
  assert(#plan == 100, "the percents must add up to 100")
  sent, ok, crash_sent, crash_500, other_bad = 0, 0, 0, 0, 0
end

function request()
  local path = plan[(sent * 37) % 100 + 1]
  sent = sent + 1
  if path == "/cpu/crash" then
    crash_sent = crash_sent + 1
  end
  return wrk.format(nil, path)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  elseif status == 500 and body and body:find('"signal_name"', 1, true) then
    crash_500 = crash_500 + 1
  else
    other_bad = other_bad + 1
  end
end

function done(summary, latency, requests)
  local totals = { ok = 0, crash_sent = 0, crash_500 = 0, other_bad = 0 }
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + thread:get(key)
    end
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%.1f p99_us=%.1f ok=%d crash_sent=%d " ..
    "crash_500=%d other_bad=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    totals.ok, totals.crash_sent, totals.crash_500, totals.other_bad,
    e.connect + e.read + e.write + e.timeout))
end
