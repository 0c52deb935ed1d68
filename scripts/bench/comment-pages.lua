-- wrk script: the results page asking for pages of a round's comments (results/comments), a
-- different page each time, as the signed-in reader of CANDOR_BENCH_COOKIE.
local cookie = os.getenv("CANDOR_BENCH_COOKIE")
local round = os.getenv("CANDOR_BENCH_ROUND")
local origin = os.getenv("CANDOR_BENCH_ORIGIN")
local pages = tonumber(os.getenv("CANDOR_BENCH_PAGES"))
local page = 0

function request()
  page = page % pages + 1
  return wrk.format("POST", "/api/results/comments", {
    ["Cookie"] = cookie,
    ["Origin"] = origin,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "round=" .. round .. "&page=" .. page)
end
