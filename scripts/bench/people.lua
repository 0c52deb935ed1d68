-- wrk script: the people list of a 10,000-person workplace, as its Owner, with the filter in
-- CANDOR_BENCH_QUERY (form fields of /api/people/list).
local cookie = os.getenv("CANDOR_BENCH_COOKIE")
local query = os.getenv("CANDOR_BENCH_QUERY") or "search=&department=&status=&page=1"
request = function()
  return wrk.format("POST", "/api/people/list", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie,
    ["Sec-Fetch-Site"] = "same-origin",
  }, query)
end
