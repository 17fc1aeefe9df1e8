-- wrk script: POST one small event per request to /publish?topic=bench.
--   wrk -t1 -c32 -d10s -s bench/publish.lua http://127.0.0.1:8000
-- WRK_PATH overrides the path ({topic} becomes "bench"); bench/run.sh sets it.
-- No stream subscribes to the topic, so this measures the publish request
-- path alone: parsing, routing, the hub's append to history, the answer.
local path = (os.getenv("WRK_PATH") or "/publish?topic={topic}"):gsub("{topics?}", "bench")

wrk.method = "POST"
wrk.path = path
wrk.body = '{"seq":1,"t":0,"pad":"xxxxxxxxxxxxxxxx"}'
wrk.headers["Content-Type"] = "application/json"
