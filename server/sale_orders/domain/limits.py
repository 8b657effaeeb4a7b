"""Bounds of every value the API accepts; the OpenAPI contract publishes each of them."""

from decimal import Decimal

NAME_LENGTH = 200
EMAIL_LENGTH = 320  # RFC 5321: 64 for the local part, @, 255 for the domain
TAG_LENGTH = 100

# Ids are bounded to what every JSON client reads exactly (2**53 - 1, JavaScript's safe integers),
# well inside PostgreSQL's BIGINT; a bigger id is a 400, never a driver overflow.
MAX_ID = 2**53 - 1

PRICE_DIGITS = 12
PRICE_SCALE = 2
MAX_PRICE = Decimal(1000000)
MAX_QUANTITY = 10_000
MAX_LINES = 100
MAX_TAGS = 20
# 100 lines x 10,000 x 1,000,000.00 stays within 15 significant digits, so every total is exact as a JSON
# number (a double holds any 15-digit decimal exactly) as well as in NUMERIC and Decimal.

IDEMPOTENCY_KEY_LENGTH = 255
# A full order (100 lines, 20 tags) is under 10 KB and about 430 JSON values.
MAX_BODY_BYTES = 64 * 1024
MAX_BODY_VALUES = 1_000

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
