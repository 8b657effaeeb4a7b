"""`python -m sale_orders_faultproxy`: the command line (`cli`), as `sale-orders faultproxy`."""

from sale_orders_faultproxy.cli import main

main()
