"""Sale orders: the original example's flow, exact money, references, atomicity, replacement of lines and tags."""

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.engine import URL

from tests.support.api import Api, assert_problem
from tests.support.database import EMPTY, row_counts

# What `Api.order_fixture()` creates before the order: a contact, two products, two tags.
FIXTURE_ROWS = {**EMPTY, "contact": 1, "product": 2, "tag": 2}


def test_original_example_reads_back_identically_from_the_other_family(api: Api) -> None:
    body = api.order_fixture()
    order = api.create("/order", body)
    assert order == {
        "id": order["id"],
        "name": "SO001",
        "contact_id": body["contact_id"],
        "order_lines": body["order_lines"],
        "tags": [
            {"id": body["tag_ids"][0], "name": f"tag {api.family} 0"},
            {"id": body["tag_ids"][1], "name": f"tag {api.family} 1"},
        ],
        "amount_total": 2.75,
    }
    assert api.other.get(f"/order/{order['id']}").json() == order
    assert api.get(f"/order/{order['id']}").json() == order


@pytest.mark.parametrize(
    ("lines", "total"),
    [
        ([(3, "0.1")], "0.3"),
        ([(1, "0.1"), (1, "0.2")], "0.3"),
        ([(10_000, "1000000")] * 3, "30000000000"),
        ([(7, "0.07"), (3, "19.99")], "60.46"),
        ([], "0"),
    ],
)
def test_amount_total_is_exact(api: Api, lines: list[tuple[int, str]], total: str) -> None:
    order = api.create("/order", api.order_fixture(lines=lines, tags=0))
    assert Decimal(repr(order["amount_total"])) == Decimal(total)
    assert order["amount_total"] == float(total)  # the JSON number is the exact decimal, not a float sum


def test_missing_references_are_named_and_nothing_is_stored(api: Api, database_url: URL) -> None:
    body = api.order_fixture()
    cases: list[tuple[dict[str, Any], str]] = [
        ({**body, "contact_id": 999}, "no such contact 999"),
        (
            {**body, "order_lines": [*body["order_lines"], {"product_id": 777, "quantity": 1, "price": 1}]},
            "product 777",
        ),
        ({**body, "tag_ids": [*body["tag_ids"], 555, 556]}, "tag 555, 556"),
    ]
    for bad, message in cases:
        assert_problem(api.post("/order", json=bad), 422, "missing-reference", mentions=message)
    assert row_counts(database_url) == FIXTURE_ROWS


def test_update_replaces_lines_and_tags(api: Api, database_url: URL) -> None:
    body = api.order_fixture()
    order = api.create("/order", body)
    new_lines = [{"product_id": body["order_lines"][1]["product_id"], "quantity": 4, "price": 0.5}]
    changed = api.other.patch(f"/order/{order['id']}", json={"order_lines": new_lines, "tag_ids": [body["tag_ids"][1]]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["order_lines"] == new_lines
    assert [tag["id"] for tag in changed.json()["tags"]] == [body["tag_ids"][1]]
    assert changed.json()["amount_total"] == 2.0
    assert api.get(f"/order/{order['id']}").json() == changed.json()
    assert row_counts(database_url) == {**FIXTURE_ROWS, "sale_order": 1, "sale_order_line": 1, "sale_order_tag": 1}


def test_update_name_and_contact_keeps_lines(api: Api) -> None:
    body = api.order_fixture()
    order = api.create("/order", body)
    contact = api.create("/contact", {"name": "Bob", "email": "bob@example.com"})
    changed = api.patch(f"/order/{order['id']}", json={"name": "SO002", "contact_id": contact["id"]}).json()
    assert changed == {**order, "name": "SO002", "contact_id": contact["id"]}


def test_update_with_missing_reference_changes_nothing(api: Api) -> None:
    order = api.create("/order", api.order_fixture())
    bad_lines = [{"product_id": 4242, "quantity": 1, "price": 1}]
    assert_problem(api.patch(f"/order/{order['id']}", json={"order_lines": bad_lines}), 422, "missing-reference")
    assert_problem(api.patch(f"/order/{order['id']}", json={"contact_id": 4242}), 422, "missing-reference")
    assert api.get(f"/order/{order['id']}").json() == order


def test_delete_order_removes_lines_and_tag_links(api: Api, database_url: URL) -> None:
    order = api.create("/order", api.order_fixture())
    assert api.other.delete(f"/order/{order['id']}").status_code == 204
    assert_problem(api.get(f"/order/{order['id']}"), 404, "not-found")
    assert row_counts(database_url) == FIXTURE_ROWS


def test_same_order_through_each_family_is_equal_apart_from_id(api: Api) -> None:
    body = api.order_fixture()
    mine = api.create("/order", body)
    theirs = api.other.create("/order", body)
    assert theirs["id"] != mine["id"]
    assert {**theirs, "id": mine["id"]} == mine


def test_integral_json_numbers_are_integers(api: Api) -> None:
    # Found by Schemathesis (positive_data_acceptance): JSON Schema counts 2.0 as an integer; so does the API.
    body = api.order_fixture()
    body = {**body, "contact_id": float(body["contact_id"]), "tag_ids": [float(tag) for tag in body["tag_ids"]]}
    body["order_lines"] = [{**line, "quantity": 2.0} for line in body["order_lines"]]
    order = api.create("/order", body)
    assert order["amount_total"] == 3.0
    assert isinstance(order["contact_id"], int)
