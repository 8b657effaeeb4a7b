-- POST a new order with 3 lines and 2 tags, referring to existing demo contacts, products and tags.
-- wrk ... -s post_order.lua URL -- PATH CONTACTS PRODUCTS FIRST_TAG LAST_TAG
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

function init(args)
  seed()
  path = args[1]
  contacts, products, first_tag, last_tag = tonumber(args[2]), tonumber(args[3]), tonumber(args[4]), tonumber(args[5])
end

function request()
  return post_json(path, order_body(contacts, products, first_tag, last_tag))
end
