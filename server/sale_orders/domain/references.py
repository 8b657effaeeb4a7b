"""The rule that an order may only refer to things that exist, and how to say what is missing."""

from collections.abc import Iterable, Sequence

from sale_orders.domain.errors import MissingReferenceError


def require_existing(
    *, contact_id: int | None, product_ids: Sequence[int], tag_ids: Sequence[int], found: Iterable[tuple[str, int]]
) -> None:
    """Raise `MissingReferenceError` naming every contact, product and tag id in the request that does not exist."""
    found_ids: dict[str, set[int]] = {"contact": set(), "product": set(), "tag": set()}
    for kind, item_id in found:
        found_ids[kind].add(item_id)
    missing = {
        "contact": [contact_id] if contact_id is not None and contact_id not in found_ids["contact"] else [],
        "product": sorted(set(product_ids) - found_ids["product"]),
        "tag": sorted(set(tag_ids) - found_ids["tag"]),
    }
    parts = [f"{kind} {', '.join(map(str, ids))}" for kind, ids in missing.items() if ids]
    if parts:
        raise MissingReferenceError("no such " + "; no such ".join(parts))
