-- wrk script of `npm run bench`.
--
-- Requests come from the file named by BENCH_WRK_REQUESTS, one per line:
--   method <TAB> path <TAB> headers <TAB> body
-- with headers written "Name: value" and separated by the ASCII record separator (\30).
-- "{key}" anywhere in a line becomes a value unique to the request within the whole run (built
-- from BENCH_WRK_RUN, the thread and a counter: an Idempotency-Key), "{uuid}" a random UUID.
-- Each thread walks the list from its own offset, so concurrent requests address different lines.
-- With BENCH_WRK_COUNT=1 responses are counted by status (that makes wrk parse every response,
-- so it is only switched on where the count is checked).
-- done() prints one line: BENCH_JSON {...} with counts and latency percentiles in microseconds.

local lines = {}
for line in io.lines(os.getenv("BENCH_WRK_REQUESTS")) do
  if line ~= "" then
    local fields = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = field end
    local headers = {}
    for header in (fields[3] or ""):gmatch("[^\30]+") do
      local name, value = header:match("^([^:]+):%s*(.*)$")
      headers[name] = value
    end
    local body = fields[4]
    if body == "" then body = nil end
    lines[#lines + 1] = { method = fields[1], path = fields[2], headers = headers, body = body,
                          dynamic = line:find("{key}", 1, true) ~= nil or line:find("{uuid}", 1, true) ~= nil }
  end
end

local dynamic = false
for _, r in ipairs(lines) do dynamic = dynamic or r.dynamic end

if #lines == 1 and not dynamic then
  -- One fixed request: wrk formats it once and sends the same bytes every time.
  wrk.method = lines[1].method
  wrk.path = lines[1].path
  wrk.headers = lines[1].headers
  wrk.body = lines[1].body
else
  local run = os.getenv("BENCH_WRK_RUN") or "run"
  local formatted, index, counter = {}, 0, 0

  local function r(n) return math.random(0, n) end
  local function uuid()
    return string.format("%04x%04x-%04x-4%03x-%04x-%04x%04x%04x", r(0xffff), r(0xffff), r(0xffff), r(0xfff), 0x8000 + r(0x3fff), r(0xffff), r(0xffff), r(0xffff))
  end

  function init(args)
    local id = tid or 1
    math.randomseed(os.time() * 1000 + id)
    index = ((id - 1) * 7919) % #lines
    for i, l in ipairs(lines) do
      if not l.dynamic then formatted[i] = wrk.format(l.method, l.path, l.headers, l.body) end
    end
  end

  function request()
    index = index % #lines + 1
    local l = lines[index]
    if not l.dynamic then return formatted[index] end
    counter = counter + 1
    local key = run .. "-" .. (tid or 1) .. "-" .. counter
    local id = uuid()
    local function fill(s)
      if s == nil then return nil end
      return (s:gsub("{key}", key):gsub("{uuid}", id))
    end
    local headers = {}
    for name, value in pairs(l.headers) do headers[name] = fill(value) end
    return wrk.format(l.method, fill(l.path), headers, fill(l.body))
  end
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

if os.getenv("BENCH_WRK_COUNT") == "1" then
  statuses = {}
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    if type(s) == "table" then
      for status, n in pairs(s) do counts[#counts + 1] = string.format('[%d,%d]', status, n) end
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d},"statuses":[%s]}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    table.concat(counts, ",")))
end
