-- wrk script: a best-effort stream set-up figure. Read this first.
--
-- wrk counts a response only when its body has ended, and an event stream's
-- body never ends, so wrk cannot measure GET /latest/<topic> at all: every
-- request would just time out. (Its response() hook runs only on complete
-- responses, and "Connection: close" does not help: the server still
-- streams.) What wrk CAN do is HEAD /latest/<topic>: a HEAD answer is the
-- head alone, so it completes. That measures parsing, routing and the
-- stream's response head, but not the subscription in the hub nor the
-- connection's set-up and tear-down, and only on servers that end a HEAD of
-- a stream (sse-server does; the node and nchan baselines do not).
--
-- The real set-up rate (connect, GET, head + first byte, close, repeat)
-- is measured by `bench/sse-load churn`, e.g.
--   bench/sse-load churn --url http://127.0.0.1:8000/latest/bench --concurrency 50 --duration 10
--
--   wrk -t1 -c32 -d10s -s bench/subscribe.lua http://127.0.0.1:8000
-- WRK_PATH overrides the path ({topic} becomes "bench"); bench/run.sh sets it.
wrk.method = "HEAD"
wrk.path = (os.getenv("WRK_PATH") or "/latest/{topic}"):gsub("{topics?}", "bench")
wrk.headers["Accept"] = "text/event-stream"
