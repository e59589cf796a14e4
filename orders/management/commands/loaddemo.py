import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from orders.models import Order
from orders.services import order_create
from printing.models import PrinterConfig

# The two names the shop's example clients use.
DEMO_PRINTERS = [
    {
        "name": "收银台打印机",
        "description": "前台收银小票",
        "paper_width": PrinterConfig.PaperWidth.MM80,
        "ip_address": "192.168.1.100",
    },
    {
        "name": "厨房打印机",
        "description": "制作间出杯单",
        "paper_width": PrinterConfig.PaperWidth.MM58,
        "ip_address": "192.168.1.101",
    },
]

DEMO_ORDERS = [
    {
        "customer_phone": "13800138000",
        "items": [
            {
                "name": "珍珠奶茶",
                "size": "大杯",
                "temperature": "正常冰",
                "sugar": "正常糖",
                "quantity": 1,
                "unit_price": Decimal("25.00"),
            },
            {
                "name": "杨枝甘露",
                "size": "中杯",
                "temperature": "少冰",
                "sugar": "半糖",
                "quantity": 2,
                "unit_price": Decimal("22.00"),
            },
        ],
    },
    {
        "customer_phone": "13900139000",
        "note": "葡萄多一点",
        "items": [
            {
                "name": "多肉葡萄芝士",
                "size": "大杯",
                "temperature": "去冰",
                "sugar": "三分糖",
                "quantity": 1,
                "unit_price": Decimal("28.00"),
            },
        ],
    },
    {
        "items": [
            {
                "name": "手打柠檬茶",
                "size": "中杯",
                "temperature": "热",
                "sugar": "无糖",
                "quantity": 3,
                "unit_price": Decimal("12.00"),
            },
            {"name": "椰果加料", "quantity": 3, "unit_price": Decimal("2.00")},
        ],
    },
]


class Command(BaseCommand):
    help = (
        "Load demo data (safe to run again): the printers the example clients name, a few "
        "pending orders, and a superuser 'admin' with a random password if there is none."
    )

    def handle(self, *args, **options):
        for spec in DEMO_PRINTERS:
            _, created = PrinterConfig.objects.get_or_create(name=spec["name"], defaults=spec)
            if created:
                self.stdout.write(f"printer {spec['name']} added")
        if not Order.objects.exists():
            for spec in DEMO_ORDERS:
                order = order_create(**spec)
                self.stdout.write(f"demo order #{order.pk} added (pending: confirm it to print)")
        self._ensure_superuser()

    def _ensure_superuser(self) -> None:
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(12)
        users.create_superuser(username="admin", email="", password=password)
        self.stdout.write(
            self.style.WARNING(
                "\n  超级管理员 / superuser created\n"
                "    username: admin\n"
                f"    password: {password}\n"
                "  This password is shown only once. Change it with: "
                "python manage.py changepassword admin\n"
            )
        )
