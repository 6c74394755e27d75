-- wrk script of bench/load.py: one endpoint per run, requests rotating over registered instances.
-- bench/load.py prepends `MODE = "status"` and `CREDS = {{id, key}, ...}` (and `KEYS` for
-- registrations) before this text.

local counter = 0
local next_thread = 0

function setup(thread)
  thread:set("offset", next_thread * 37)
  next_thread = next_thread + 1
end

function init(args)
  counter = offset or 0
end

local function json_headers(key)
  local h = { ["Content-Type"] = "application/json" }
  if key then h["X-API-Key"] = key end
  return h
end

function request()
  counter = counter + 1
  local c = CREDS[(counter % #CREDS) + 1]
  if MODE == "health" then
    return wrk.format("GET", "/v1/health")
  elseif MODE == "status" then
    return wrk.format("GET", "/v1/status", { ["X-API-Key"] = c[2] })
  elseif MODE == "providers" then
    return wrk.format("GET", "/v1/providers", { ["X-API-Key"] = c[2] })
  elseif MODE == "heartbeat" then
    return wrk.format("PATCH", "/v1/instances/" .. c[1] .. "/heartbeat", json_headers(c[2]),
      '{"state": "active"}')
  elseif MODE == "register" then
    local key = KEYS[(counter % #KEYS) + 1]
    return wrk.format("POST", "/v1/instances", json_headers(nil),
      '{"project_name": "bench-load", "auth": {"opencode_auth": {"zai": {"key": "' .. key .. '"}}}}')
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
