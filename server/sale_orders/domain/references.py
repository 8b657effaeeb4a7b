"""The rule that an order may only refer to things that exist, and how to say what is missing."""

from collections.abc import Iterable

from sale_orders.domain.errors import MissingReferenceError

_KINDS = ("contact", "product", "tag")


def require_none_missing(missing: Iterable[tuple[str, int]]) -> None:
    """Raise `MissingReferenceError` naming every missing (kind, id): a contact, product or tag an order names."""
    ids: dict[str, set[int]] = {kind: set() for kind in _KINDS}
    for kind, item_id in missing:
        ids[kind].add(item_id)
    parts = [f"no such {kind} {', '.join(map(str, sorted(ids[kind])))}" for kind in _KINDS if ids[kind]]
    if parts:
        raise MissingReferenceError("; ".join(parts))
