"""The hot read path's JSON encoder writes exactly what pydantic's `Order` model would, for any rows."""

import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from sale_orders.domain import limits, order_json, schemas

ORDERS = TypeAdapter(list[schemas.Order])

names = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=40)
ids = st.integers(1, limits.MAX_ID)
prices = st.integers(0, int(limits.MAX_PRICE * 100)).map(lambda cents: Decimal(cents) / 100)
lines = st.tuples(ids, st.integers(1, limits.MAX_QUANTITY), prices)
tags = st.tuples(ids, names)
orders = st.lists(st.tuples(names, ids, st.lists(lines, max_size=5), st.lists(tags, max_size=3)), max_size=6)


@given(orders)
def test_encoded_orders_are_the_json_of_the_order_model(
    drawn: list[tuple[str, int, list[tuple[int, int, Decimal]], list[tuple[int, str]]]],
) -> None:
    heads, line_rows, tag_rows, models = [], [], [], []
    for order_id, (name, contact_id, order_lines, order_tags) in enumerate(drawn, start=1):
        heads.append((order_id, name, contact_id))
        line_rows += [(order_id, p, q, c) for p, q, c in order_lines]
        tag_rows += [(order_id, t, n) for t, n in order_tags]
        models.append(
            schemas.Order(
                id=order_id,
                name=name,
                contact_id=contact_id,
                order_lines=[schemas.OrderLine(product_id=p, quantity=q, price=c) for p, q, c in order_lines],
                tags=[schemas.Tag(id=t, name=n) for t, n in order_tags],
                amount_total=sum((c * q for _, q, c in order_lines), Decimal(0)),
            )
        )
    encoded = order_json.encode_orders(heads, line_rows, tag_rows)
    assert json.loads(encoded, parse_float=Decimal) == json.loads(ORDERS.dump_json(models), parse_float=Decimal)
    if heads:
        one = order_json.encode_order(heads[0], line_rows, tag_rows)
        assert json.loads(one) == json.loads(encoded)[0]
