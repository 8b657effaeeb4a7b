-- Shared by every benchmark script (loaded with dofile): error counting, request bodies, and a done()
-- that prints one JSON line, so bench/wrk.py never has to parse wrk's human-readable summary.
--
-- Each wrk thread runs its own copy of the script; setup() and done() run in a separate environment,
-- which keeps the thread objects to add up their counters at the end.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

-- Per-thread counters, read back by done() through thread:get().
non_2xx = 0
responses = 0
first_error = ""
-- WRK_STOP_AFTER=N stops each thread after N responses (the leak check counts requests, not seconds).
stop_after = tonumber(os.getenv("WRK_STOP_AFTER") or "")
sequence = 0

function seed()
  math.randomseed(os.time() * 1000 + (thread_id or 0))
  for _ = 1, 10 do math.random() end
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
    if first_error == "" then
      first_error = tostring(status) .. " " .. string.sub(body or "", 1, 300)
    end
  end
  if stop_after and responses >= stop_after then
    wrk.thread:stop()
  end
end

-- WRK_AUTHORIZATION (e.g. "Bearer <key>") is sent with every request: the ladder's API-key rung needs it, and a
-- server without API_KEYS ignores it.
local authorization = os.getenv("WRK_AUTHORIZATION")
if authorization and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end

-- `headers` with the Authorization above, if any (wrk.format sends a request's own headers instead of wrk.headers).
function with_auth(headers)
  if authorization and authorization ~= "" then
    headers["Authorization"] = authorization
  end
  return headers
end

local json_headers = with_auth({ ["Content-Type"] = "application/json" })

function post_json(path, body)
  return wrk.format("POST", path, json_headers, body)
end

-- A token unique to this thread and request (and, by its random part, to this run).
function unique_token()
  sequence = sequence + 1
  return string.format("%d-%d-%d", thread_id or 0, sequence, math.random(1, 1000000000))
end

-- A new contact with a name and an e-mail address unique to this thread and request.
function contact_body()
  local key = unique_token()
  return string.format('{"name":"Bench %s","email":"bench-%s@example.com"}', key, key)
end

-- A new order for an existing contact: 3 lines of existing products, 2 distinct existing tags.
function order_body(contacts, products, first_tag, last_tag)
  local lines = {}
  for i = 1, 3 do
    lines[i] = string.format(
      '{"product_id":%d,"quantity":%d,"price":%d.%02d}',
      math.random(1, products), math.random(1, 10), math.random(0, 999), math.random(0, 99)
    )
  end
  local tag = math.random(first_tag, last_tag - 1)
  local other = math.random(tag + 1, last_tag)
  return string.format(
    '{"name":"Bench order","contact_id":%d,"order_lines":[%s],"tag_ids":[%d,%d]}',
    math.random(1, contacts), table.concat(lines, ","), tag, other
  )
end

local function json_string(text)
  return '"' .. text:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
  local bad, first = 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non_2xx") or 0)
    if first == "" then first = thread:get("first_error") or "" end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"first_error":%s}\n',
    summary.requests, summary.duration, bad, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    json_string(first)
  ))
end
