"""Printers: their settings, roles and categories, and the test client's socket tickets."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_ipv46_address
from django.db import models
from django.utils.translation import gettext_lazy as _

from printing import escpos_encode, labels

# What TSPL's built-in Chinese font (TSS24.BF2) takes.
LABEL_ENCODINGS = ("gb18030", "gbk", "big5")


class PrinterConfig(models.Model):
    """A receipt printer. Columns and defaults are the shop's original `printer_config` table."""

    class PaperWidth(models.IntegerChoices):
        MM58 = 58, _("58 mm")
        MM80 = 80, _("80 mm")

    class PrinterType(models.TextChoices):
        THERMAL = "thermal", _("Thermal")
        IMPACT = "impact", _("Impact (dot matrix)")

    class ConnectionType(models.TextChoices):
        AGENT = "agent", _("Agent or client connects over WebSocket")
        NETWORK = "network", _("Network printer: the server prints to IP:port")

    class ChineseMode(models.TextChoices):
        ON = "on", _("Chinese mode on (FS &)")
        OFF = "off", _("Chinese mode off (FS .)")
        NONE = "none", _("Send neither")

    class Cut(models.TextChoices):
        PARTIAL = "partial", _("Partial cut")
        FULL = "full", _("Full cut")
        NONE = "none", _("No cut")

    class Header(models.TextChoices):
        DOUBLE = "double", _("Bold, double height")
        BOLD = "bold", _("Bold")
        NONE = "none", _("Plain")

    class Role(models.TextChoices):
        RECEIPT = "receipt", _("Customer receipt")
        STATION = "station", _("Station make ticket")
        LABEL = "label", _("Cup labels")

    class NetworkStatus(models.TextChoices):
        UNKNOWN = "", _("Not checked yet")
        ONLINE = "online", _("Online")
        OFFLINE = "offline", _("Offline")
        PAPER_OUT = "paper_out", _("Paper out")
        COVER_OPEN = "cover_open", _("Cover open")

    name = models.CharField(_("name"), max_length=100, unique=True)
    ip_address = models.CharField(
        _("IP address"),
        max_length=45,
        null=True,
        blank=True,
        validators=[validate_ipv46_address],
    )
    port = models.IntegerField(
        _("port"), default=9100, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    printer_type = models.CharField(
        _("printer type"), max_length=50, choices=PrinterType.choices, default=PrinterType.THERMAL
    )
    paper_width = models.IntegerField(
        _("paper width (mm)"), choices=PaperWidth.choices, default=PaperWidth.MM80
    )
    is_active = models.BooleanField(_("active"), default=True)
    auto_print_orders = models.BooleanField(_("print orders automatically"), default=True)
    print_copies = models.IntegerField(
        _("copies"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    description = models.TextField(_("description"), null=True, blank=True)
    role = models.CharField(
        _("role"),
        max_length=20,
        choices=Role.choices,
        default=Role.RECEIPT,
        help_text=_("What it prints for a confirmed order."),
    )
    categories = models.ManyToManyField(
        "orders.Category",
        blank=True,
        related_name="printers",
        verbose_name=_("categories"),
        help_text=_("Only the items of these categories; none selected means every item."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    backup_printer = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="backup_for",
        verbose_name=_("backup printer"),
        help_text=_("Receives this printer's jobs when it has been offline for a while."),
    )
    alarm_printer = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("alarm printer"),
        help_text=_(
            "Station and label printers: when this printer is out of paper or a ticket is "
            "stuck, a short slip with the buzzer goes to this printer (e.g. the counter's)."
        ),
    )
    # SHA-256 of the printer's secret token; the token itself is shown once, when issued.
    token_hash = models.CharField(
        _("token hash"), max_length=64, null=True, blank=True, unique=True, editable=False
    )
    token_issued_at = models.DateTimeField(_("token issued at"), null=True, blank=True)

    connection_type = models.CharField(
        _("connection"),
        max_length=20,
        choices=ConnectionType.choices,
        default=ConnectionType.AGENT,
    )
    # How the receipt becomes ESC/POS bytes (see printing/escpos_encode.py).
    encoding = models.CharField(
        _("text encoding"),
        max_length=20,
        choices=[(name, name) for name in escpos_encode.ENCODINGS],
        default="gb18030",
    )
    chinese_mode = models.CharField(
        _("Chinese mode"), max_length=10, choices=ChineseMode.choices, default=ChineseMode.ON
    )
    cut_mode = models.CharField(_("cut"), max_length=10, choices=Cut.choices, default=Cut.PARTIAL)
    header_style = models.CharField(
        _("header"), max_length=10, choices=Header.choices, default=Header.DOUBLE
    )
    cash_drawer = models.BooleanField(_("open the cash drawer"), default=False)
    buzzer = models.BooleanField(_("beep on new receipts"), default=False)
    qr_code = models.BooleanField(_("QR code of the order number"), default=False)
    escpos_profile = models.CharField(
        _("ESC/POS profile"),
        max_length=50,
        default="default",
        help_text=_("python-escpos capability profile, e.g. default, TM-T88V, TM-T20II"),
    )
    status_query = models.BooleanField(
        _("ask the printer for its status"),
        default=True,
        help_text=_(
            "Network printers: DLE EOT before and after printing; off for printers "
            "that do not answer it."
        ),
    )
    # Label printers (role "label"): the label stock and how the printer takes it.
    label_width_mm = models.IntegerField(
        _("label width (mm)"),
        default=40,
        validators=[MinValueValidator(20), MaxValueValidator(110)],
    )
    label_height_mm = models.IntegerField(
        _("label height (mm)"),
        default=30,
        validators=[MinValueValidator(15), MaxValueValidator(200)],
    )
    label_gap_mm = models.IntegerField(
        _("gap between labels (mm)"),
        default=2,
        validators=[MinValueValidator(0), MaxValueValidator(20)],
    )
    label_dpi = models.IntegerField(
        _("resolution (dpi)"), choices=[(203, "203 dpi"), (300, "300 dpi")], default=203
    )
    label_density = models.IntegerField(
        _("print density"),
        default=8,
        validators=[MinValueValidator(0), MaxValueValidator(15)],
    )
    label_direction = models.IntegerField(
        _("print direction"), choices=[(0, "0"), (1, "1")], default=1
    )
    network_status = models.CharField(
        _("network status"),
        max_length=20,
        choices=NetworkStatus.choices,
        blank=True,
        default=NetworkStatus.UNKNOWN,
        editable=False,
    )
    network_checked_at = models.DateTimeField(
        _("checked at"), null=True, blank=True, editable=False
    )
    # Which server process prints to this network printer now (one job at a time).
    network_lease_owner = models.IntegerField(null=True, blank=True, editable=False)
    network_lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "printer_config"
        verbose_name = _("printer")
        verbose_name_plural = _("printers")
        ordering = ["name"]
        permissions = [
            ("use_test_client", _("Can connect as a printer with the WebSocket test client"))
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.connection_type == self.ConnectionType.NETWORK and not self.ip_address:
            raise ValidationError({"ip_address": _("A network printer needs its IP address.")})
        try:
            self.escpos_settings()
        except (LookupError, ValueError) as exc:
            raise ValidationError({"escpos_profile": str(exc)}) from None
        if self.backup_printer_id is not None and self.backup_printer_id == self.pk:
            raise ValidationError({"backup_printer": _("A printer cannot back itself up.")})
        if self.role == self.Role.LABEL:
            self._clean_label()

    def _clean_label(self) -> None:
        errors = {}
        if not 20 <= (self.label_width_mm or 0) <= 110:
            errors["label_width_mm"] = _("A label is 20 to 110 mm wide.")
        if not 15 <= (self.label_height_mm or 0) <= 200:
            errors["label_height_mm"] = _("A label is 15 to 200 mm high.")
        if self.encoding not in LABEL_ENCODINGS:
            errors["encoding"] = _("A label printer's Chinese font takes GB18030, GBK or Big5.")
        if errors:
            raise ValidationError(errors)

    def label_spec(self) -> labels.LabelSpec:
        return labels.LabelSpec(
            width_mm=self.label_width_mm,
            height_mm=self.label_height_mm,
            gap_mm=self.label_gap_mm,
            dpi=self.label_dpi,
            density=self.label_density,
            direction=self.label_direction,
            encoding=self.encoding,
            qr_code=self.qr_code,
        )

    def escpos_settings(self) -> escpos_encode.PrinterSettings:
        return escpos_encode.PrinterSettings(
            encoding=self.encoding,
            chinese_mode=self.chinese_mode,
            cut=self.cut_mode,
            header=self.header_style,
            cash_drawer=self.cash_drawer,
            buzzer=self.buzzer,
            qr_code=self.qr_code,
            profile=self.escpos_profile,
            paper_width=self.paper_width,
        )


# Opening a printer socket from the browser shows what that printer prints (customer phone
# numbers included): a permission of its own, checked for as long as the socket is open.
TEST_CLIENT_PERMISSION = "printing.use_test_client"


class SocketTicket(models.Model):
    """A one-minute, single-use pass for a staff member's browser to open a socket as one
    printer (the WebSocket test tool). Only a hash of the pass is stored; redeeming it
    deletes the row, so every server process agrees it was used."""

    ticket_hash = models.CharField(max_length=64, unique=True)
    printer = models.ForeignKey(PrinterConfig, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "print_socket_ticket"

    def __str__(self) -> str:
        return f"ticket {self.pk} for printer {self.printer_id}"
