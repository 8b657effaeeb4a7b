"""What each operation does, as the contract describes it: one text per operation for both families."""

CREATE_CONTACT = (
    "Creates a contact from its name and e-mail address (checked, and normalised: the domain is lowercased). "
    "Answers 201 with the contact and its URL in `Location`. With an `Idempotency-Key`, a retry with the same "
    "body answers the first contact and creates nothing."
)
LIST_CONTACTS = (
    "A page of contacts in id order: `after` is the last id of the previous page (0 for the first), `limit` the "
    "page size. A page shorter than `limit` is the last."
)
GET_CONTACT = "One contact by id; 404 when no contact has it."
UPDATE_CONTACT = (
    "Changes the fields given; absent fields stay unchanged, and null is refused. Answers the contact as it is now."
)
DELETE_CONTACT = "Deletes a contact; 409 while an order still names it. Answers 204 with no body."
CREATE_PRODUCT = (
    "Creates a product from its name. Answers 201 with the product and its URL in `Location`. With an "
    "`Idempotency-Key`, a retry with the same body answers the first product and creates nothing."
)
LIST_PRODUCTS = (
    "A page of products in id order: `after` is the last id of the previous page (0 for the first), `limit` the "
    "page size. A page shorter than `limit` is the last."
)
GET_PRODUCT = "One product by id; 404 when no product has it."
UPDATE_PRODUCT = (
    "Changes the fields given; absent fields stay unchanged, and null is refused. Answers the product as it is now."
)
DELETE_PRODUCT = "Deletes a product; 409 while an order line still names it. Answers 204 with no body."
CREATE_TAG = (
    "Creates a tag; names are unique (409 for a name in use). Answers 201 with the tag and its URL in `Location`. "
    "With an `Idempotency-Key`, a retry with the same body answers the first tag and creates nothing."
)
LIST_TAGS = (
    "A page of tags in id order: `after` is the last id of the previous page (0 for the first), `limit` the page "
    "size. A page shorter than `limit` is the last."
)
GET_TAG = "One tag by id; 404 when no tag has it."
UPDATE_TAG = "Renames a tag; 409 when another tag has the name."
DELETE_TAG = "Deletes a tag; 409 while an order is labelled with it. Answers 204 with no body."
CREATE_ORDER = (
    "Creates a sale order with its lines and tags in one statement, after checking that its contact, products and "
    "tags exist (422 names every one that does not; nothing is stored). Answers 201 with the order, its computed "
    "`amount_total`, and its URL in `Location`. With an `Idempotency-Key`, a retry with the same body answers the "
    "first order and creates nothing."
)
LIST_ORDERS = (
    "A page of orders with their lines and tags, in id order: `after` is the last id of the previous page (0 for "
    "the first), `limit` the page size. A page shorter than `limit` is the last."
)
GET_ORDER = "One order with its lines, tags and `amount_total`; 404 when no order has the id."
UPDATE_ORDER = (
    "Changes the fields given in one transaction; `order_lines` and `tag_ids`, when given, replace the order's "
    "lines and tags. References are checked first (422). Answers the order as it is now."
)
DELETE_ORDER = "Deletes an order with its lines and tag links. Answers 204 with no body."
