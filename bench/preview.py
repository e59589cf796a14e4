"""Print previews drawn by the pure modules (no database, no server, no printer): an 80 mm
customer receipt with 10 items (encode_document, render_escpos, PNG) and a 3-cup label set
(encode_labels, render_tspl, PNG), each N times. Milliseconds per preview, and the PNG's
size in KiB.

    python -m bench.preview --n 50
"""

import time
from datetime import datetime
from decimal import Decimal

from bench.harness import arguments, report, summary
from bench.labels import ORDER as LABEL_ORDER
from printing.escpos_encode import PrinterSettings, encode_document
from printing.labels import LabelSpec, cup_labels
from printing.preview import render_escpos, render_tspl
from printing.receipt import Receipt, ReceiptItem, receipt_document
from printing.tspl import encode_labels

DRINKS = ("珍珠奶茶", "多肉葡萄", "杨枝甘露", "芝士莓莓", "Lemon Tea 柠檬茶")


def ten_item_receipt() -> Receipt:
    items = tuple(
        ReceiptItem(
            DRINKS[n % len(DRINKS)],
            1 + n % 3,
            Decimal(12 + n),
            size="大杯",
            temperature="少冰",
            sugar="半糖",
            toppings="珍珠, 椰果" if n % 2 else "",
        )
        for n in range(10)
    )
    return Receipt(
        shop_name="发财小狗饮品店",
        order_id=456,
        time=datetime(2025, 7, 14, 10, 30),
        total=sum((item.unit_price * item.quantity for item in items), Decimal(0)),
        items=items,
        note="少冰，不要吸管",
        pickup_number="A001",
        order_type="delivery",
        delivery_platform="美团",
        platform_order_no="12",
    )


def _timed(n: int, preview) -> tuple[list[float], int]:
    preview()  # warm-up (fonts loaded, caches filled), not counted
    times, size = [], 0
    for _ in range(n):
        started = time.perf_counter()
        size = len(preview())
        times.append(time.perf_counter() - started)
    return times, size


def run(args) -> list[dict]:
    receipt = ten_item_receipt()
    settings = PrinterSettings(paper_width=80)

    def receipt_png() -> bytes:
        document = receipt_document(receipt, paper_width=80)
        data = encode_document(document=document, settings=settings, order_id=receipt.order_id)
        return render_escpos(data, paper_width=80, encoding=settings.encoding).png()

    spec = LabelSpec(qr_code=True)

    def labels_png() -> bytes:
        data = encode_labels(labels=cup_labels(LABEL_ORDER), spec=spec)
        return render_tspl(data, encoding=spec.encoding, dpi=spec.dpi).png()

    results = []
    for name, preview in (("preview.receipt", receipt_png), ("preview.labels", labels_png)):
        times, size = _timed(args.n, preview)
        results.append(report(name, **summary(times), kib=round(size / 1024, 1), n=args.n))
    return results


def main() -> None:
    parser = arguments(__doc__, backend=False)
    parser.add_argument("--n", type=int, default=50, help="previews of each kind")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
