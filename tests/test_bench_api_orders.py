"""bench.api_orders at a tiny size, so it never rots: every order it created through the API
printed once. No figure is asserted (docs/performance.md has them)."""

import json

from tests.test_bench import bench


def test_the_api_orders_benchmark_sees_every_order_it_created_printed_once():
    result = json.loads(bench("api_orders", "--seconds", "1", "--clients", "2", "--json").stdout)
    assert result["bench"] == "api_orders"
    assert result["orders"] > 0
    assert (result["lost"], result["duplicates"]) == (0, 0)
