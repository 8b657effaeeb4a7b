"""`python -m sale_orders_bench`: the command line (`cli`), as `sale-orders bench`."""

from sale_orders_bench.cli import main

main()
