"""The confirm path alone: how fast confirming writes an order's tickets, and in how many
SQL statements, for the seed's one receipt and for a drinks shop's print plan.

    python -m bench.confirm_path --orders 500
    python -m bench.confirm_path --orders 500 --backend redis-pg

- one-receipt: one receipt printer, orders of one drink (the seed's shop).
- stations: one receipt printer and two station printers (奶茶 / 果茶 + 小食), orders of six
  items, two of each category: three tickets per order.

Orders are created pending first (not measured), then confirmed one transaction each with
order_confirm, as the board's confirm button does. No server runs: this is the cost of the
confirming transaction (pickup number, plan, layouts, jobs and their events), not delivery.
"""

import time

from bench.harness import MENU, Backend, arguments, report, summary


def six_items(categories: dict) -> list[dict]:
    return [
        {"name": "珍珠奶茶", "category": categories["奶茶"], "toppings": "珍珠, 椰果",
         "quantity": 2, "unit_price": "15.00", "size": "大杯", "sugar": "半糖"},
        {"name": "乌龙奶茶", "category": categories["奶茶"], "unit_price": "14.00"},
        {"name": "杨枝甘露", "category": categories["果茶"], "unit_price": "22.00"},
        {"name": "多肉葡萄", "category": categories["果茶"], "unit_price": "28.00"},
        {"name": "鸡米花", "category": categories["小食"], "unit_price": "12.00"},
        {"name": "薯条", "category": categories["小食"], "unit_price": "9.00"},
    ]  # fmt: skip


def measure(scenario: str, items: list[dict], count: int, backend: str) -> dict:
    from django.db import connection

    from orders.services import order_confirm, order_create
    from printing.models import PrintJob

    order_ids = [order_create(items=items).pk for _ in range(count + 1)]
    order_confirm(order_id=order_ids.pop())  # warm-up, not counted
    durations = []
    statements = 0

    def counted(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    # Counted, not logged: a query log would also cost time, and it keeps only 9000.
    with connection.execute_wrapper(counted):
        started = time.perf_counter()
        for order_id in order_ids:
            begun = time.perf_counter()
            order_confirm(order_id=order_id)
            durations.append(time.perf_counter() - begun)
        elapsed = time.perf_counter() - started
    jobs = PrintJob.objects.filter(order_id__in=order_ids).count()
    return report(
        f"confirm_path.{scenario}",
        backend=backend,
        orders=count,
        tickets_per_order=round(jobs / count, 2),
        orders_per_s=round(count / elapsed, 1),
        jobs_per_s=round(jobs / elapsed, 1),
        statements_per_order=round(statements / count, 2),
        **summary(durations),
    )


def run(args) -> list[dict]:
    with Backend.create(args.backend):
        from orders.models import Category
        from printing.models import PrinterConfig

        Role = PrinterConfig.Role
        categories = {name: Category.objects.create(name=name) for name in ("奶茶", "果茶", "小食")}
        PrinterConfig.objects.create(name="收银台打印机", role=Role.RECEIPT)
        results = [measure("one-receipt", MENU, args.orders, args.backend)]
        tea = PrinterConfig.objects.create(name="奶茶站", role=Role.STATION, paper_width=58)
        tea.categories.set([categories["奶茶"]])
        fruit = PrinterConfig.objects.create(name="果茶站", role=Role.STATION)
        fruit.categories.set([categories["果茶"], categories["小食"]])
        results.append(measure("stations", six_items(categories), args.orders, args.backend))
        return results


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--orders", type=int, default=500)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
