-- POST a new order with 3 lines and 2 tags, referring to existing demo contacts, products and tags; with
-- KEYED, each with an Idempotency-Key of its own (claimed, created and stored with the order).
-- wrk ... -s post_order.lua URL -- PATH CONTACTS PRODUCTS FIRST_TAG LAST_TAG [KEYED]
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

function init(args)
  seed()
  path = args[1]
  contacts, products, first_tag, last_tag = tonumber(args[2]), tonumber(args[3]), tonumber(args[4]), tonumber(args[5])
  keyed = args[6] == "KEYED"
end

function request()
  local body = order_body(contacts, products, first_tag, last_tag)
  if keyed then
    local headers = with_auth({ ["Content-Type"] = "application/json", ["Idempotency-Key"] = "bench-" .. unique_token() })
    return wrk.format("POST", path, headers, body)
  end
  return post_json(path, body)
end
