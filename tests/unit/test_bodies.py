"""The one-pass body validation (`sale_orders.web.bodies`) accepts what Litestar's two passes accept, as the same model.

Litestar without the DTO: msgspec decodes the body, then `model_validate(..., strict=True)` (the pydantic plugin
with `validate_strict=True`). A body the one pass refuses goes through those two passes again, so only what it
accepts needs checking here.
"""

import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from sqlmodel import SQLModel

from sale_orders.domain import schemas
from sale_orders.web.bodies import validate_json

BODY_MODELS: list[type[BaseModel]] = [
    schemas.ContactCreate,
    schemas.ContactUpdate,
    schemas.ProductCreate,
    schemas.ProductUpdate,
    schemas.TagCreate,
    schemas.TagUpdate,
    schemas.OrderCreate,
    schemas.OrderUpdate,
]


def two_passes(model: type[BaseModel], raw: bytes) -> BaseModel | None:
    try:
        return model.model_validate(msgspec.json.decode(raw), strict=True)
    except (msgspec.DecodeError, ValidationError, RecursionError):
        return None


def one_pass(model: type[BaseModel], raw: bytes) -> BaseModel | None:
    try:
        return validate_json(model, raw)
    except ValidationError:
        return None


def assert_same(model: type[BaseModel], raw: bytes) -> None:
    new = one_pass(model, raw)
    if new is None:
        return  # refused: the DTO then answers with the two passes' own error
    old = two_passes(model, raw)
    assert old is not None, f"one pass accepts what two passes refuse: {raw!r}"
    assert type(new) is type(old)
    assert new == old
    assert new.model_fields_set == old.model_fields_set  # PATCH changes exactly the fields sent
    assert new.model_dump() == old.model_dump()


LINE = {"product_id": 1, "quantity": 2, "price": 0.1}
BODIES: list[Any] = [
    {"name": "Ada", "email": "Ada.L@Example.COM"},
    {"name": "SO", "contact_id": 1, "order_lines": [LINE, {**LINE, "price": 19.99}], "tag_ids": [2, 1]},
    {"name": "SO", "contact_id": 1.0, "order_lines": [{**LINE, "quantity": 1e2, "product_id": 3.0}]},
    {"name": "SO", "contact_id": 1, "tag_ids": [1, 1.0]},
    {"name": "x"},
    {"tag_ids": []},
    {},
    {"name": "SO", "contact_id": "1"},
    {"name": "SO", "contact_id": True},
    {"name": 1},
    {"name": None},
    {"name": "SO", "contact_id": 1, "extra": 1},
    [],
    None,
]


def priced(price: bytes) -> bytes:
    """An order whose one line has `price`, written as is."""
    return (
        b'{"name": "SO", "contact_id": 1, "order_lines": [{"product_id": 1, "quantity": 1, "price": ' + price + b"}]}"
    )


RAW: list[bytes] = [
    priced(b"0.1000000000000000055511"),
    priced(b"NaN"),
    priced(b"1e400"),
    priced(b"1" + b"0" * 400),
    priced(b"-0.0"),
    b'{"name": "first", "name": "last", "contact_id": 1}',
    b'{"name": 1, "name": "last", "contact_id": 1}',
    b'\xef\xbb\xbf{"name": "bom"}',
    b'{"name": "x"} trailing',
    b'{"name": "\\ud800"}',
    b'{"name": "\xff"}',
    b"[" * 5000,
]


@pytest.mark.parametrize("model", BODY_MODELS, ids=lambda model: model.__name__)
@pytest.mark.parametrize("raw", [json.dumps(body).encode() for body in BODIES] + RAW, ids=lambda raw: repr(raw[:40]))
def test_one_pass_accepts_only_what_two_passes_accept(model: type[BaseModel], raw: bytes) -> None:
    assert_same(model, raw)


def test_money_is_exact() -> None:
    raw = b'{"name": "SO", "contact_id": 1, "order_lines": [{"product_id": 1, "quantity": 3, "price": 0.1}]}'
    order = validate_json(schemas.OrderCreate, raw)
    assert order.order_lines[0].price == Decimal("0.1")


class _Loose(SQLModel):
    count: int  # no Strict() on the field: only the validation's own strictness refuses "1"


def test_the_one_pass_is_strict_for_sqlmodel_models() -> None:
    # Given no instance, pydantic-core hands a SQLModel model's decoded values to its `__init__`, which
    # validates them again, leniently: `"1"` would become 1.
    assert _Loose.__pydantic_validator__.validate_json(b'{"count": "1"}', strict=True).count == 1
    with pytest.raises(ValidationError):
        validate_json(_Loose, b'{"count": "1"}')


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5), st.decimals(allow_nan=False)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=8,
)
fields = st.sampled_from(["name", "email", "contact_id", "order_lines", "tag_ids", "product_id", "quantity", "price"])
lines = st.fixed_dictionaries(
    {},
    optional={
        "product_id": st.integers(-1, 3) | st.floats(0, 3) | json_values,
        "quantity": st.integers(-1, 3) | st.floats(0, 3) | json_values,
        "price": st.decimals("-1", "100000000", places=3) | st.floats(-1, 1e9) | json_values,
    },
)
bodies = st.dictionaries(
    fields,
    json_values | st.lists(lines, max_size=3) | st.sampled_from(["SO", "a@example.com", "x@EXAMPLE.com", 1, 2]),
    max_size=5,
)


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(BODY_MODELS), bodies)
@example(schemas.OrderCreate, {"name": "SO", "contact_id": 1, "order_lines": [{**LINE, "price": 99999999.99}]})
def test_one_pass_and_two_passes_agree(model: type[BaseModel], body: dict[str, Any]) -> None:
    raw = json.dumps(body, default=float).encode()  # a Decimal as a JSON number
    assert_same(model, raw)
