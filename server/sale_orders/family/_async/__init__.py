"""One family of routes: its Idempotency-Key protocol, services and controllers (see `sale_orders.family`)."""
