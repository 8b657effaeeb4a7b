-- GET a path; "{id}" in it is replaced by a random id in [first, last] for every request.
-- wrk ... -s get.lua URL -- PATH [FIRST LAST]
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

function init(args)
  seed()
  path, first, last = args[1], tonumber(args[2]), tonumber(args[3])
end

function request()
  if first then
    return wrk.format("GET", (path:gsub("{id}", tostring(math.random(first, last)))))
  end
  return wrk.format("GET", path)
end
