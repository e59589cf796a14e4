"""Cup labels rendered per second by the pure modules: label_page and encode_labels for a
three-cup order (no database, no server, no printer).

    python -m bench.labels --orders 2000
    python -m bench.labels --orders 2000 --dpi 300
"""

import time
from datetime import datetime
from decimal import Decimal

from bench.harness import arguments, report
from printing.labels import LabelSpec, cup_labels
from printing.receipt import Receipt, ReceiptItem
from printing.tspl import encode_labels

ORDER = Receipt(
    shop_name="发财小狗饮品店",
    order_id=1,
    time=datetime(2025, 7, 14, 10, 30),
    total=Decimal("58.00"),
    items=(
        ReceiptItem(
            "珍珠奶茶",
            2,
            Decimal(15),
            size="大杯",
            temperature="少冰",
            sugar="半糖",
            toppings="珍珠, 椰果",
        ),
        ReceiptItem("多肉葡萄", 1, Decimal(28), size="中杯", sugar="三分糖"),
    ),
    note="不要吸管，谢谢",
    pickup_number="A001",
    order_type="delivery",
    delivery_platform="美团",
    platform_order_no="12",
)


def run(args) -> dict:
    spec = LabelSpec(dpi=args.dpi, qr_code=args.qr)
    labels = cup_labels(ORDER)
    encode_labels(labels=labels, spec=spec)  # warm-up, not counted
    started = time.perf_counter()
    size = 0
    for _ in range(args.orders):
        # From the order, as the server does for each label job.
        size = len(encode_labels(labels=cup_labels(ORDER), spec=spec))
    elapsed = time.perf_counter() - started
    count = args.orders * len(labels)
    return report(
        "labels.render",
        labels_per_s=round(count / elapsed, 1),
        dpi=args.dpi,
        orders=args.orders,
        labels=count,
        us_per_label=round(elapsed / count * 1e6, 1),
        bytes_per_order=size,
    )


def main() -> None:
    parser = arguments(__doc__, backend=False)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--dpi", type=int, default=203, choices=(203, 300))
    parser.add_argument("--qr", action="store_true", help="with the QR code of the pickup number")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
