-- PATCH an existing demo order: its lines replaced by 3 new ones (existing products), its tags by 2 distinct
-- existing tags. Changing an order is several statements in one transaction, and locks the order's row: each
-- thread walks the order ids in turn from a random start, so requests in flight at once change different
-- orders (as long as there are more orders than connections) and never wait for each other's lock.
-- wrk ... -s patch_order.lua URL -- PATH ORDERS PRODUCTS FIRST_TAG LAST_TAG   (PATH has "{id}")
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

function init(args)
  seed()
  path = args[1]
  orders, products, first_tag, last_tag = tonumber(args[2]), tonumber(args[3]), tonumber(args[4]), tonumber(args[5])
  cursor = math.random(1, orders)
end

local function patch_body()
  local lines = {}
  for i = 1, 3 do
    lines[i] = string.format(
      '{"product_id":%d,"quantity":%d,"price":%d.%02d}',
      math.random(1, products), math.random(1, 10), math.random(0, 999), math.random(0, 99)
    )
  end
  local tag = math.random(first_tag, last_tag - 1)
  local other = math.random(tag + 1, last_tag)
  return string.format('{"order_lines":[%s],"tag_ids":[%d,%d]}', table.concat(lines, ","), tag, other)
end

function request()
  cursor = cursor % orders + 1
  return wrk.format("PATCH", (path:gsub("{id}", tostring(cursor))), with_auth({ ["Content-Type"] = "application/json" }), patch_body())
end
