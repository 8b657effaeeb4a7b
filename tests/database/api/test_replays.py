"""Replays, the property contract runs leave out: a create retried with its Idempotency-Key is answered as the first.

Contract runs give each create a key of its own (contracts/hooks.py), because a replay answers 201 with an
object that may have been deleted since, which Schemathesis takes for a lost resource. Here every create of
the contract is generated from its schema, sent twice with one key (once per family), and retried again after
the object is deleted: the same answer each time, and never a second object.
"""

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.api import Api
from tests.support.contract import data_schema, json_object

SCHEMA = data_schema()
RESOURCES = ["contact", "product", "tag", "order"]


def refer_to_existing_rows(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """An order body whose contact, products and tags exist, so that it can be created."""
    contact = api.create("/contact", {"name": "C", "email": "c@example.com"})["id"]
    product = api.create("/product", {"name": "P"})["id"]
    tag = api.create("/tag", {"name": f"T{uuid.uuid4()}"})["id"]
    lines = [{**line, "product_id": product} for line in body.get("order_lines", [])]
    return {**body, "contact_id": contact, "order_lines": lines, "tag_ids": [tag] if body.get("tag_ids") else []}


def count(api: Api, resource: str) -> int:
    return len(api.get(f"/{resource}", params={"limit": 100}).json())


@pytest.mark.parametrize("resource", RESOURCES)
@given(data=st.data())
def test_a_create_retried_with_its_key_is_answered_as_the_first_time(
    api: Api, resource: str, data: st.DataObject
) -> None:
    case = data.draw(SCHEMA[f"/{api.family}/{resource}"]["POST"].as_strategy())
    body = refer_to_existing_rows(api, json_object(case)) if resource == "order" else case.body
    key = {"Idempotency-Key": str(uuid.uuid4())}
    before = count(api, resource)

    first = api.post(f"/{resource}", json=body, headers=key)
    retried = api.other.post(f"/{resource}", json=body, headers=key)
    assert (retried.status_code, retried.json()) == (first.status_code, first.json())
    if first.status_code != 201:  # refused (a duplicate tag name): nothing was stored, nothing to replay
        assert count(api, resource) == before
        return
    assert count(api, resource) == before + 1

    assert api.delete(f"/{resource}/{first.json()['id']}").status_code == 204
    after_delete = api.post(f"/{resource}", json=body, headers=key)
    assert (after_delete.status_code, after_delete.json()) == (201, first.json())
    assert count(api, resource) == before
