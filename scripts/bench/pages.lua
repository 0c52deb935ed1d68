-- wrk script: signed-in people loading one page (CANDOR_BENCH_PATH), each request with the next
-- person's session cookie (the first field of each line of CANDOR_BENCH_SUBMISSIONS), so no
-- single session's request budget is what gets measured.
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  cookies = {}
  local threads = tonumber(os.getenv("CANDOR_BENCH_THREADS"))
  local n = 0
  for line in io.lines(os.getenv("CANDOR_BENCH_SUBMISSIONS")) do
    if n % threads == id then
      table.insert(cookies, line:match("^([^\t]+)\t"))
    end
    n = n + 1
  end
  path = os.getenv("CANDOR_BENCH_PATH")
  position = 0
end

function request()
  position = position % #cookies + 1
  return wrk.format("GET", path, { ["Cookie"] = cookies[position] })
end
