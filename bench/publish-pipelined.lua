-- wrk script: like publish.lua, but each connection sends WRK_DEPTH (default
-- 8) POSTs in one write and waits for their answers: HTTP/1.1 pipelining.
--   WRK_DEPTH=8 wrk -t1 -c32 -d10s -s bench/publish-pipelined.lua http://127.0.0.1:8000
-- With one request at a time, wrk itself needs as much CPU per request as
-- the server, so on two cores both servers meet wrk's limit. Pipelining
-- makes the client cheap per request, so the server becomes the limit: what
-- it costs to read, answer and write a batch of requests is what is seen.
-- wrk counts every answer as one request.
local path = (os.getenv("WRK_PATH") or "/publish?topic={topic}"):gsub("{topics?}", "bench")
local depth = tonumber(os.getenv("WRK_DEPTH") or "8")
local body = '{"seq":1,"t":0,"pad":"xxxxxxxxxxxxxxxx"}'

init = function(args)
    local requests = {}
    for i = 1, depth do
        requests[i] = wrk.format("POST", path, { ["Content-Type"] = "application/json" }, body)
    end
    batch = table.concat(requests)
end

request = function()
    return batch
end
