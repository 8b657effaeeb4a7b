"""What can go wrong with a request, in the domain's words; `sale_orders.web.problems` turns each into HTTP."""


class DomainError(Exception):
    """A request the API cannot carry out; the message is written for the client."""


class NotFoundError(DomainError):
    """No resource has the requested id."""


class ConflictError(DomainError):
    """The request conflicts with stored data: a duplicate name, or a row that an order still uses."""


class MissingReferenceError(DomainError):
    """The request refers to a contact, product or tag that does not exist."""


class KeyReusedError(DomainError):
    """The Idempotency-Key was used before for a different request."""


class KeyInProgressError(ConflictError):
    """A create with this Idempotency-Key is under way, or its key is being purged: retry in a moment."""
