-- POST workload for wrk: every request carries a body of E2E_BODY_BYTES
-- bytes (default 8192). The request is built once (no request() function).
local size = tonumber(os.getenv("E2E_BODY_BYTES") or "8192")
wrk.method = "POST"
wrk.body = string.rep("b", size)
wrk.headers["Content-Type"] = "application/octet-stream"
