from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A menu category (奶茶, 果茶, 小食): station printers take the items of theirs."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    sort_order = models.IntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class ShopProfile(models.Model):
    """The shop's own words on its tickets, edited in the admin; one row."""

    shop_name = models.CharField(
        _("shop name"),
        max_length=100,
        blank=True,
        help_text=_("Printed on top of every ticket; empty uses the SHOP_NAME setting."),
    )
    address_line = models.CharField(
        _("address / phone line"), max_length=200, blank=True, help_text=_("Under the shop name.")
    )
    footer_lines = models.TextField(
        _("footer lines"),
        blank=True,
        default="谢谢惠顾，欢迎再来！",
        help_text=_("One per line, at the bottom of the receipt (e.g. the WiFi password)."),
    )
    pickup_prefix = models.CharField(
        _("pickup number prefix"),
        max_length=4,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9]*$", _("Letters and digits only."))],
        help_text=_("Before the day's sequence: A makes A001."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("ticket text")
        verbose_name_plural = _("ticket text")

    def __str__(self) -> str:
        return str(_("Ticket text"))

    @classmethod
    def current(cls) -> "ShopProfile":
        """The saved profile, or the defaults when nobody has edited it yet."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    @property
    def printed_shop_name(self) -> str:
        return self.shop_name.strip() or settings.SHOP_NAME

    @property
    def footer(self) -> tuple[str, ...]:
        return tuple(line.strip() for line in self.footer_lines.splitlines() if line.strip())


class PickupCounter(models.Model):
    """The last pickup number given out on a day (in the shop's time zone). Numbers are
    taken by one atomic upsert, so two processes confirming at once never share one."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "order_pickup_counter"

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CONFIRMED = "confirmed", _("Confirmed")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    class OrderType(models.TextChoices):
        DINE_IN = "dine_in", _("Dine in")
        TAKEAWAY = "takeaway", _("Takeaway")
        DELIVERY = "delivery", _("Delivery")

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    total_amount = models.DecimalField(
        _("total amount"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    customer_phone = models.CharField(_("customer phone"), max_length=32, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    order_type = models.CharField(
        _("order type"), max_length=20, choices=OrderType.choices, default=OrderType.DINE_IN
    )
    delivery_platform = models.CharField(
        _("delivery platform"), max_length=30, blank=True, help_text=_("e.g. 美团, 饿了么")
    )
    platform_order_no = models.CharField(_("platform order number"), max_length=40, blank=True)
    # Given once, at confirmation: the day's sequence with the shop's prefix (A001). Empty
    # until then; an order with a number has had its tickets planned.
    pickup_number = models.CharField(_("pickup number"), max_length=16, blank=True, db_index=True)
    pickup_day = models.DateField(_("pickup day"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pickup_day", "pickup_number"],
                condition=models.Q(pickup_day__isnull=False),
                name="order_pickup_number_once_a_day",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    # Given by the confirming transaction only: a save of a copy loaded before it must not
    # wipe the number (and so print the order again under a new one).
    ASSIGNED_ONCE = ("pickup_number", "pickup_day")

    def save(self, *args, **kwargs) -> None:
        if self.status == self.Status.CONFIRMED and self.confirmed_at is None:
            self.confirmed_at = timezone.now()
        if kwargs.get("update_fields") is None and not self._state.adding and self.pk:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in self.ASSIGNED_ONCE
            ]
        # The post_save receiver writes the print jobs; wrapping the save makes the order and
        # its jobs one transaction on every path, a shell's order.save() included.
        with transaction.atomic(using=kwargs.get("using"), savepoint=False):
            super().save(*args, **kwargs)


class OrderItem(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="items", verbose_name=_("order")
    )
    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("category"),
    )
    # As the customer chose them, comma-separated: "珍珠, 椰果" prints as "+珍珠 +椰果".
    toppings = models.CharField(_("toppings"), max_length=200, blank=True)
    size = models.CharField(_("size"), max_length=50, blank=True)
    temperature = models.CharField(_("temperature"), max_length=50, blank=True)
    sugar = models.CharField(_("sugar"), max_length=50, blank=True)
    quantity = models.PositiveIntegerField(
        _("quantity"), default=1, validators=[MinValueValidator(1)]
    )
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} x {self.quantity}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity
