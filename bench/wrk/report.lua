-- wrk script: optional JSON POST bodies, then a one-line JSON report that bench/run reads.
--   BENCH_METHOD=POST BENCH_BODY='{"company_name": "X", "email": "lead-{n}@bench.example"}'
-- "{n}" in the body becomes a number unique across the run's threads and requests.
local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
local run_id = os.getenv("BENCH_RUN_ID") or tostring(os.time())
local thread_counter = 0
local threads = {}

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("thread_id", thread_counter)
  table.insert(threads, thread)
end

function init(args)
  sent = 0
  statuses = {}
end

function request()
  sent = sent + 1
  if body then
    local unique = run_id .. "-" .. thread_id .. "-" .. sent
    local this_body = body:gsub("{n}", unique)
    local headers = {["Content-Type"] = "application/json"}
    for name, value in pairs(wrk.headers) do headers[name] = value end  -- -H, e.g. Authorization
    return wrk.format(method, nil, headers, this_body)
  end
  return wrk.format(method)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local thread_statuses = thread:get("statuses")
    for status, count in pairs(thread_statuses) do
      counts[tostring(status)] = (counts[tostring(status)] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(counts) do
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  io.write(string.format(
    'BENCH_REPORT {"requests": %d, "duration_us": %d, "errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write,  -- statuses: counted below
    summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    table.concat(parts, ", ")))
end
