import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from orders.models import Category, Order
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

DEMO_CATEGORIES = [("奶茶", 1), ("果茶", 2), ("小食", 3)]

# A make-ticket printer for the drinks; 小食 is left to the counter (the print dashboard warns
# about it), and the two printers above stay receipt printers as the example clients expect.
DEMO_STATION = {
    "name": "制作台打印机",
    "description": "奶茶、果茶制作台",
    "paper_width": PrinterConfig.PaperWidth.MM58,
    "role": PrinterConfig.Role.STATION,
}
DEMO_STATION_CATEGORIES = ["奶茶", "果茶"]

# Items name their category; the command looks it up.
DEMO_ORDERS = [
    {
        "customer_phone": "13800138000",
        "items": [
            {
                "name": "珍珠奶茶",
                "category": "奶茶",
                "size": "大杯",
                "temperature": "正常冰",
                "sugar": "正常糖",
                "toppings": "珍珠, 椰果",
                "quantity": 1,
                "unit_price": Decimal("25.00"),
            },
            {
                "name": "杨枝甘露",
                "category": "果茶",
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
                "category": "果茶",
                "size": "大杯",
                "temperature": "去冰",
                "sugar": "三分糖",
                "quantity": 1,
                "unit_price": Decimal("28.00"),
            },
        ],
    },
    {
        "order_type": Order.OrderType.DELIVERY,
        "delivery_platform": "美团",
        "platform_order_no": "12",
        "items": [
            {
                "name": "手打柠檬茶",
                "category": "果茶",
                "size": "中杯",
                "temperature": "热",
                "sugar": "无糖",
                "quantity": 3,
                "unit_price": Decimal("12.00"),
            },
            {"name": "鸡米花", "category": "小食", "quantity": 1, "unit_price": Decimal("12.00")},
        ],
    },
    {
        "order_type": Order.OrderType.TAKEAWAY,
        "customer_phone": "13700137000",
        "items": [
            {
                "name": "芋泥波波奶茶",
                "category": "奶茶",
                "size": "中杯",
                "temperature": "少冰",
                "sugar": "七分糖",
                "toppings": "芋泥, 波波",
                "quantity": 1,
                "unit_price": Decimal("19.00"),
            },
            {"name": "薯条", "category": "小食", "quantity": 1, "unit_price": Decimal("10.00")},
        ],
    },
]


class Command(BaseCommand):
    help = (
        "Load demo data (safe to run again): menu categories, the printers the example clients "
        "name and a station printer, a few pending orders, and a superuser 'admin' with a "
        "random password if there is none."
    )

    def handle(self, *args, **options):
        categories = {}
        for name, sort_order in DEMO_CATEGORIES:
            categories[name], created = Category.objects.get_or_create(
                name=name, defaults={"sort_order": sort_order}
            )
            if created:
                self.stdout.write(f"category {name} added")
        for spec in DEMO_PRINTERS:
            _, created = PrinterConfig.objects.get_or_create(name=spec["name"], defaults=spec)
            if created:
                self.stdout.write(f"printer {spec['name']} added")
        # Created once: a shop that changed its station's categories keeps its choice.
        station, created = PrinterConfig.objects.get_or_create(
            name=DEMO_STATION["name"], defaults=DEMO_STATION
        )
        if created:
            station.categories.set([categories[name] for name in DEMO_STATION_CATEGORIES])
            self.stdout.write(f"printer {station.name} added")
        if not Order.objects.exists():
            for spec in DEMO_ORDERS:
                items = [
                    {**item, "category": categories[item["category"]]}
                    if "category" in item
                    else item
                    for item in spec["items"]
                ]
                order = order_create(**{**spec, "items": items})
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
