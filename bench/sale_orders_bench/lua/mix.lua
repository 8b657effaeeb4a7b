-- Every benchmarked endpoint of both families in turn (the leak check): reads and writes, sync and async.
-- wrk ... -s mix.lua URL -- CONTACTS PRODUCTS FIRST_TAG LAST_TAG ORDERS
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local builders = {}

function init(args)
  seed()
  local contacts, products, first_tag, last_tag, orders =
    tonumber(args[1]), tonumber(args[2]), tonumber(args[3]), tonumber(args[4]), tonumber(args[5])
  for _, family in ipairs({ "/sync", "/async" }) do
    table.insert(builders, function() return post_json(family .. "/contact", contact_body()) end)
    table.insert(builders, function()
      return wrk.format("GET", family .. "/contact/" .. math.random(1, contacts))
    end)
    table.insert(builders, function()
      return post_json(family .. "/order", order_body(contacts, products, first_tag, last_tag))
    end)
    table.insert(builders, function() return wrk.format("GET", family .. "/order/" .. math.random(1, orders)) end)
    table.insert(builders, function() return wrk.format("GET", family .. "/order?limit=50") end)
  end
end

local turn = 0

function request()
  turn = turn % #builders + 1
  return builders[turn]()
end
