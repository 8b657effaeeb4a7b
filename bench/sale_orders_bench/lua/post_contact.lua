-- POST a new contact (unique name and e-mail) for every request.
-- wrk ... -s post_contact.lua URL -- PATH
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

function init(args)
  seed()
  path = args[1]
end

function request()
  return post_json(path, contact_body())
end
