-- wrk script: employees submitting a check-in, each request as a different person (a line of
-- CANDOR_BENCH_SUBMISSIONS: cookie, tab, JSON body). Threads take every CANDOR_BENCH_THREADS-th
-- line, so no person submits twice until the list runs out; after that a line is sent again
-- and is refused (409), which wrk counts as a non-2xx response.
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  lines = {}
  local threads = tonumber(os.getenv("CANDOR_BENCH_THREADS"))
  local n = 0
  for line in io.lines(os.getenv("CANDOR_BENCH_SUBMISSIONS")) do
    if n % threads == id then
      local cookie, body = line:match("^([^\t]+)\t(.*)$")
      table.insert(lines, { cookie, body })
    end
    n = n + 1
  end
  position = 0
end

function request()
  position = position + 1
  local entry = lines[position] or lines[1]
  return wrk.format("POST", "/api/check_ins/submit", {
    ["Content-Type"] = "application/json",
    ["Cookie"] = entry[1],
    ["Sec-Fetch-Site"] = "same-origin",
  }, entry[2])
end
