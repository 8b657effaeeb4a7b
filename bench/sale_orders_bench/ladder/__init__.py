"""BENCHMARK ONLY: the ladder of rungs from bare Litestar to the thinnest path through the product's stack."""
