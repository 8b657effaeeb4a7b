"""Contacts, products and tags: create, read, list, change, delete, through both families."""

import pytest

from tests.support.api import Api, assert_problem

RESOURCES = {
    "/contact": ({"name": "Ann", "email": "ann@example.com"}, {"email": "ann@example.org"}),
    "/product": ({"name": "apple"}, {"name": "green apple"}),
    "/tag": ({"name": "food"}, {"name": "groceries"}),
}


@pytest.mark.parametrize("path", RESOURCES)
def test_create_read_update_delete(api: Api, path: str) -> None:
    body, change = RESOURCES[path]
    created = api.create(path, body)
    assert created == {"id": created["id"], **body}

    assert api.other.get(f"{path}/{created['id']}").json() == created

    updated = api.patch(f"{path}/{created['id']}", json=change)
    assert updated.status_code == 200, updated.text
    assert updated.json() == {**created, **change}
    assert api.other.get(f"{path}/{created['id']}").json() == {**created, **change}

    assert api.delete(f"{path}/{created['id']}").status_code == 204
    assert_problem(api.get(f"{path}/{created['id']}"), 404, "not-found", mentions=str(created["id"]))
    assert_problem(api.delete(f"{path}/{created['id']}"), 404, "not-found")
    assert_problem(api.patch(f"{path}/{created['id']}", json=change), 404, "not-found")


@pytest.mark.parametrize("path", RESOURCES)
def test_empty_patch_changes_nothing(api: Api, path: str) -> None:
    created = api.create(path, RESOURCES[path][0])
    response = api.patch(f"{path}/{created['id']}", json={})
    assert response.status_code == 200
    assert response.json() == created


def test_email_is_validated(api: Api) -> None:
    problem = assert_problem(
        api.post("/contact", json={"name": "Ann", "email": "not an email"}), 400, "validation-error"
    )
    assert problem["errors"][0]["loc"] == "email"


def test_tag_names_are_unique(api: Api) -> None:
    api.create("/tag", {"name": "food"})
    assert_problem(api.other.post("/tag", json={"name": "food"}), 409, "conflict", mentions="tag")
    other = api.create("/tag", {"name": "drink"})
    assert_problem(api.patch(f"/tag/{other['id']}", json={"name": "food"}), 409, "conflict")
    assert [tag["name"] for tag in api.get("/tag").json()] == ["food", "drink"]


@pytest.mark.parametrize("path", ["/contact", "/product", "/tag"])
def test_in_use_cannot_be_deleted(api: Api, path: str) -> None:
    body = api.order_fixture(tags=1)
    api.create("/order", body)
    used_id = {
        "/contact": body["contact_id"],
        "/product": body["order_lines"][0]["product_id"],
        "/tag": body["tag_ids"][0],
    }[path]
    assert_problem(api.delete(f"{path}/{used_id}"), 409, "conflict", mentions="still used by an order")
    assert api.get(f"{path}/{used_id}").status_code == 200


def test_emails_at_test_domains_are_valid(api: Api) -> None:
    # Found by Schemathesis (positive_data_acceptance): `format: email` allows `a#b@host.test`; so must we.
    assert api.create("/contact", {"name": "Zed", "email": "z#d@r5.example.test"})["email"] == "z#d@r5.example.test"
