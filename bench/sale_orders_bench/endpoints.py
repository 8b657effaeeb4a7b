"""The benchmarked endpoints, how wrk calls each of them, and which ceiling each is compared with."""

from dataclasses import dataclass

from sale_orders.family.record import FAMILY_NAMES
from sale_orders_bench.wrk import Load

FAMILIES = FAMILY_NAMES
CEILING = "ceiling"
POST_CONTACT = "POST /contact"
GET_CONTACT = "GET /contact/{id}"
POST_ORDER = "POST /order"
POST_ORDER_KEYED = "POST /order (Idempotency-Key)"
GET_ORDER = "GET /order/{id}"
LIST_ORDERS = "GET /order?limit=50"
PATCH_ORDER = "PATCH /order/{id}"


@dataclass(frozen=True)
class DemoIds:
    """The id ranges of the demo data (every range starts at 1: the database is a fresh one)."""

    contacts: int
    products: int
    tags: int
    orders: int


@dataclass(frozen=True)
class Endpoint:
    name: str
    slug: str
    ceiling: str  # the ceiling endpoint the ratio is taken against
    served_by_ceiling: bool  # whether the ceiling app serves this endpoint itself

    @property
    def exact_ceiling(self) -> bool:
        """Whether the ratio compares like with like (otherwise: the closest ceiling endpoint)."""
        return self.ceiling == self.name

    def load(self, prefix: str, ids: DemoIds) -> Load:  # noqa: PLR0911 - one return per endpoint
        """The wrk script and arguments that call this endpoint under `prefix` ("/sync", "/async" or "")."""
        match self.name:
            case "POST /contact":
                return Load("post_contact.lua", (f"{prefix}/contact",))
            case "GET /contact/{id}":
                return Load("get.lua", (f"{prefix}/contact/{{id}}", "1", str(ids.contacts)))
            case "POST /order":
                return Load("post_order.lua", (f"{prefix}/order", *_order_refs(ids)))
            case "POST /order (Idempotency-Key)":
                return Load("post_order.lua", (f"{prefix}/order", *_order_refs(ids), "KEYED"))
            case "GET /order/{id}":
                return Load("get.lua", (f"{prefix}/order/{{id}}", "1", str(ids.orders)))
            case "GET /order?limit=50":
                return Load("get.lua", (f"{prefix}/order?limit=50",))
            case "PATCH /order/{id}":
                return Load(
                    "patch_order.lua",
                    (f"{prefix}/order/{{id}}", str(ids.orders), str(ids.products), "1", str(ids.tags)),
                )
        raise ValueError(self.name)


def _order_refs(ids: DemoIds) -> tuple[str, ...]:
    return str(ids.contacts), str(ids.products), "1", str(ids.tags)


ENDPOINTS = (
    Endpoint(POST_CONTACT, "post_contact", ceiling=POST_CONTACT, served_by_ceiling=True),
    Endpoint(GET_CONTACT, "get_contact", ceiling=LIST_ORDERS, served_by_ceiling=False),
    Endpoint(POST_ORDER, "post_order", ceiling=POST_ORDER, served_by_ceiling=True),
    Endpoint(POST_ORDER_KEYED, "post_order_keyed", ceiling=POST_ORDER, served_by_ceiling=False),
    Endpoint(GET_ORDER, "get_order", ceiling=LIST_ORDERS, served_by_ceiling=False),
    Endpoint(LIST_ORDERS, "list_orders", ceiling=LIST_ORDERS, served_by_ceiling=True),
    # Changing an order is several statements in one transaction (`bench network`); not in the matrix by default.
    Endpoint(PATCH_ORDER, "patch_order", ceiling=POST_ORDER, served_by_ceiling=False),
)
BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}
BY_SLUG = {endpoint.slug: endpoint for endpoint in ENDPOINTS}
LADDER_ENDPOINTS = tuple(BY_NAME[name] for name in (POST_CONTACT, LIST_ORDERS, POST_ORDER))
"""What the ladder's rungs serve, and so what `ladder` and `ab` measure by default."""


def mix_load(ids: DemoIds) -> Load:
    """Every endpoint of both families in turn, for the leak check."""
    return Load("mix.lua", (*_order_refs(ids), str(ids.orders)))


def scale_page_load(prefix: str, last_after: int) -> Load:
    """A page of 50 orders after a random id: a page from anywhere in the table, not just the first."""
    return Load("get.lua", (f"{prefix}/order?limit=50&after={{id}}", "1", str(last_after)))
