-- wrk script: GET a static file (default /index.html) over keep-alive.
--   wrk -t1 -c32 -d10s -s bench/static.lua http://127.0.0.1:8000
-- WRK_PATH overrides the path; bench/run.sh sets it.
wrk.method = "GET"
wrk.path = os.getenv("WRK_PATH") or "/index.html"
