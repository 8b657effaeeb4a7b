"""Contains all the data models used in inputs/outputs"""

from .contact import Contact
from .contact_create import ContactCreate
from .contact_update import ContactUpdate
from .field_error import FieldError
from .health import Health
from .liveness import Liveness
from .order import Order
from .order_create import OrderCreate
from .order_line import OrderLine
from .order_update import OrderUpdate
from .problem_details import ProblemDetails
from .product import Product
from .product_create import ProductCreate
from .product_update import ProductUpdate
from .tag import Tag
from .tag_create import TagCreate
from .tag_update import TagUpdate

__all__ = (
    "Contact",
    "ContactCreate",
    "ContactUpdate",
    "FieldError",
    "Health",
    "Liveness",
    "Order",
    "OrderCreate",
    "OrderLine",
    "OrderUpdate",
    "ProblemDetails",
    "Product",
    "ProductCreate",
    "ProductUpdate",
    "Tag",
    "TagCreate",
    "TagUpdate",
)
