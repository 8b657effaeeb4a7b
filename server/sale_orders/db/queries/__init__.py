"""SQL statements on the SQLModel tables, built once and executed through either family's session.

Most are Core statements on the tables' columns: the hot paths read and write rows, not ORM objects. Each
module keeps a statement's parameters and the decoding of its rows next to it:
`catalog` (contacts, products, tags), `orders` (sale orders with their lines and tags), and `idempotency`
(creating exactly once with an Idempotency-Key, and purging expired keys).
"""
