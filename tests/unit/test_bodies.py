"""Request bodies (`sale_orders.web.bodies`): JSON only, every number exact, bounded, validated strictly.

The reference is pydantic's own strict validation of the body decoded exactly (`json.loads` with Decimal
fractions): `decode_body` must accept the same bodies and build the same models, and refuse what that reference
cannot read one way only (duplicate keys, NaN).
"""

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from litestar.exceptions import SerializationException, ValidationException
from pydantic import BaseModel, ValidationError
from sqlmodel import SQLModel

from sale_orders.domain import limits, schemas
from sale_orders.web.bodies import decode_body, has_at_most, is_json_media_type

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


def to_json(value: Any) -> str:
    """`value` as JSON text, a Decimal written as the number it spells (json.dumps would write a float)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(key)}:{to_json(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(item) for item in value) + "]"
    return json.dumps(value)


def reference(model: type[BaseModel], raw: bytes) -> BaseModel | None:
    try:
        return model.model_validate(json.loads(raw, parse_float=Decimal), strict=True)
    except (ValueError, ArithmeticError, ValidationError, RecursionError):
        return None


def decoded(model: type[BaseModel], raw: bytes) -> BaseModel | None:
    try:
        return decode_body(model, raw)
    except (ValidationError, SerializationException, ValidationException):
        return None


def assert_same(model: type[BaseModel], raw: bytes) -> None:
    new, old = decoded(model, raw), reference(model, raw)
    assert (new is None) == (old is None), f"decode_body {'refuses' if new is None else 'accepts'} {raw!r}"
    if new is not None and old is not None:
        assert type(new) is type(old)
        assert new == old
        assert new.model_fields_set == old.model_fields_set  # PATCH changes exactly the fields sent
        assert new.model_dump() == old.model_dump()


LINE = {"product_id": 1, "quantity": 2, "price": Decimal("0.1")}
BODIES: list[Any] = [
    {"name": "Ada", "email": "Ada.L@Example.COM"},
    {"name": "SO", "contact_id": 1, "order_lines": [LINE, {**LINE, "price": Decimal("19.99")}], "tag_ids": [2, 1]},
    {"name": "SO", "contact_id": Decimal("1.0"), "order_lines": [{**LINE, "quantity": Decimal("1e2")}]},
    {"name": "SO", "contact_id": 1, "tag_ids": [1, Decimal("1.0")]},
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


@pytest.mark.parametrize("model", BODY_MODELS, ids=lambda model: model.__name__)
@pytest.mark.parametrize("body", BODIES, ids=repr)
def test_decode_body_agrees_with_strict_validation_of_the_exact_json(model: type[BaseModel], body: Any) -> None:
    assert_same(model, to_json(body).encode())


def order_line(field: str, number: bytes) -> bytes:
    values = {"product_id": b"1", "quantity": b"1", "price": b"1", field: number}
    fields = b", ".join(b'"' + name.encode() + b'": ' + value for name, value in values.items())
    return b'{"name": "SO", "contact_id": 1, "order_lines": [{' + fields + b"}]}"


# Numbers a float would round to an acceptable value: each is a 400, however it is spelled.
LOSSY = [
    ("price", b"0.1000000000000000055511151231257827"),
    ("price", b"1.0099999999999999"),
    ("price", b"0.001"),
    ("price", b"1.0000000000000000000001e0"),
    ("price", b"999999.999"),
    ("quantity", b"2.0000000000000001"),
    ("quantity", b"2.5"),
    ("quantity", b"25e-1"),
    ("product_id", b"1.0000000000000001"),
    ("product_id", b"1e-400"),
    ("product_id", b"9007199254740993.0"),
]


@pytest.mark.parametrize(("field", "number"), LOSSY, ids=[f"{f}={n.decode()}" for f, n in LOSSY])
def test_a_number_a_float_would_round_is_refused(field: str, number: bytes) -> None:
    with pytest.raises(ValidationError) as refused:
        decode_body(schemas.OrderCreate, order_line(field, number))
    assert [error["loc"][-1] for error in refused.value.errors()] == [field]


@pytest.mark.parametrize(
    ("field", "number", "value"),
    [
        ("price", b"0.1", Decimal("0.1")),
        ("price", b"19.99", Decimal("19.99")),
        ("price", b"0.250", Decimal("0.25")),
        ("price", b"1E+2", Decimal(100)),
        ("price", b"-0.0", Decimal(0)),
        ("quantity", b"2.0", 2),
        ("quantity", b"1e2", 100),
        ("product_id", b"7.000", 7),
    ],
)
def test_exact_numbers_are_read_as_written(field: str, number: bytes, value: Decimal | int) -> None:
    line = decode_body(schemas.OrderCreate, order_line(field, number)).order_lines[0]
    read = getattr(line, field)
    assert read == value
    assert type(read) is type(value)
    if isinstance(read, Decimal):
        assert not read.is_signed()  # -0.0 is 0, as PostgreSQL stores it


@pytest.mark.parametrize(
    ("raw", "mentions"),
    [
        (order_line("price", b"NaN"), "NaN"),
        (order_line("price", b"Infinity"), "Infinity"),
        (order_line("price", b"1" + b"0" * 5000), "too many digits"),
        (order_line("price", b"1e1000000000000000000"), "exponent is out of range"),
        (order_line("quantity", b"-2.5E+1000000000000000000"), "exponent is out of range"),
        (b'{"name": "first", "name": "last"}', "appears twice"),
        (b'{"name": 1, "name": "last"}', "appears twice"),
        (b'{"name": "x"} trailing', "malformed"),
        (b'{"name": "\xff"}', "UTF-8"),
        (b"[" * 5000, "nested too deeply"),
        (b"", "malformed"),
    ],
)
def test_json_that_is_not_one_value_is_refused(raw: bytes, mentions: str) -> None:
    with pytest.raises(SerializationException) as refused:
        decode_body(schemas.ProductUpdate, raw)
    assert mentions in str(refused.value.detail)
    assert "sys." not in str(refused.value.detail)  # no Python internals in a client's answer


def test_a_body_with_too_many_values_is_refused_before_validation() -> None:
    unknown_keys = {f"k{number}": 1 for number in range(limits.MAX_BODY_VALUES)}
    with pytest.raises(ValidationException, match="more than"):
        decode_body(schemas.ContactCreate, json.dumps(unknown_keys).encode())
    largest = {
        "name": "x" * limits.NAME_LENGTH,
        "contact_id": 1,
        "order_lines": [{"product_id": n + 1, "quantity": 1, "price": 1} for n in range(limits.MAX_LINES)],
        "tag_ids": list(range(1, limits.MAX_TAGS + 1)),
    }
    assert len(decode_body(schemas.OrderCreate, json.dumps(largest).encode()).order_lines) == limits.MAX_LINES


@pytest.mark.parametrize(
    ("data", "limit", "within"),
    [
        (1, 1, True),
        ([1, 2], 2, False),
        ([1, 2], 3, True),
        ({"a": [1, {"b": 2}]}, 5, True),
        ({"a": [1, {"b": 2}]}, 4, False),
        ([[[[]]]], 4, True),
        ([[[[]]]], 3, False),
    ],
)
def test_has_at_most_counts_every_nested_value(data: Any, limit: int, within: bool) -> None:
    assert has_at_most(data, limit) is within


@pytest.mark.parametrize(
    ("content_type", "json_body"),
    [
        ("application/json", True),
        ("Application/JSON; charset=UTF-8", True),
        ('application/json; charset="utf-8"', True),
        ("application/problem+json", True),
        ("application/vnd.api+json", True),
        ("application/json; charset=latin-1", False),
        ("application/+json", False),
        ("text/plain", False),
        ("text/json", False),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("", False),
    ],
)
def test_only_json_media_types_are_bodies(content_type: str, json_body: bool) -> None:
    assert is_json_media_type(content_type) is json_body


class _Loose(SQLModel):
    count: int  # no Strict() on the field: only the validation's own strictness refuses "1"


def test_decoding_is_strict_for_sqlmodel_models() -> None:
    # Given no instance, pydantic-core hands a SQLModel model's values to its `__init__`, which validates them
    # again, leniently: `"1"` would become 1.
    assert _Loose.__pydantic_validator__.validate_python({"count": "1"}, strict=True).count == 1
    with pytest.raises(ValidationError):
        decode_body(_Loose, b'{"count": "1"}')


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.decimals(allow_nan=False)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=8,
)
fields = st.sampled_from(["name", "email", "contact_id", "order_lines", "tag_ids", "product_id", "quantity", "price"])
lines = st.fixed_dictionaries(
    {},
    optional={
        "product_id": st.integers(-1, 3) | st.decimals("0", "3", places=17) | json_values,
        "quantity": st.integers(-1, 3) | st.decimals("0", "3", places=17) | json_values,
        "price": st.decimals("-1", "100000000", places=3) | json_values,
    },
)
bodies = st.dictionaries(
    fields,
    json_values | st.lists(lines, max_size=3) | st.sampled_from(["SO", "a@example.com", "x@EXAMPLE.com", 1, 2]),
    max_size=5,
)


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(BODY_MODELS), bodies)
@example(
    schemas.OrderCreate, {"name": "SO", "contact_id": 1, "order_lines": [{**LINE, "price": Decimal("99999999.99")}]}
)
def test_decode_body_and_strict_validation_agree(model: type[BaseModel], body: dict[str, Any]) -> None:
    assert_same(model, to_json(body).encode())
