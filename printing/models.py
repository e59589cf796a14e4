from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_ipv46_address
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from printing import escpos_encode


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


class ServerProcess(models.Model):
    """One running print-server process; its heartbeat tells the others it is alive."""

    hostname = models.CharField(_("host"), max_length=255)
    pid = models.IntegerField(_("process id"))
    version = models.CharField(_("version"), max_length=20)
    channel_layer = models.CharField(_("channel layer"), max_length=100)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    last_seen = models.DateTimeField(_("last heartbeat"), default=timezone.now)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True, db_index=True)

    class Meta:
        db_table = "print_server_process"
        verbose_name = _("server process")
        verbose_name_plural = _("server processes")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid}"


class ServerInstance(models.Model):
    """One row: the id of this database, made on first use. Printer clients get it in
    `welcome` and key the job ids they remember by it: a reset or restored database gives
    out job ids again, and must not find them already printed."""

    instance = models.CharField(_("instance"), max_length=32, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        db_table = "print_server_instance"
        verbose_name = _("server instance")
        verbose_name_plural = _("server instances")

    def __str__(self) -> str:
        return self.instance


class PrinterConnection(models.Model):
    """One printer WebSocket, open or closed; what the client said about itself is kept."""

    server = models.ForeignKey(
        ServerProcess,
        on_delete=models.CASCADE,
        related_name="connections",
        verbose_name=_("server process"),
    )
    printer = models.ForeignKey(
        PrinterConfig,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="connections",
        verbose_name=_("bound printer"),
    )
    client_address = models.CharField(_("client address"), max_length=64, blank=True)
    path = models.CharField(_("path"), max_length=200, blank=True)
    reported_name = models.CharField(_("reported name"), max_length=100, blank=True)
    reported_model = models.CharField(_("reported model"), max_length=100, blank=True)
    reported_status = models.CharField(_("reported status"), max_length=100, blank=True)
    printer_info = models.JSONField(_("printer info"), default=dict, blank=True)
    connected_at = models.DateTimeField(_("connected at"), default=timezone.now)
    last_seen = models.DateTimeField(_("last heard from"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, db_index=True)
    close_code = models.IntegerField(_("close code"), null=True, blank=True)
    # "token" or "network": how the socket was let in.
    authenticated_by = models.CharField(_("authenticated by"), max_length=20, blank=True)

    class Meta:
        db_table = "printer_connection"
        verbose_name = _("printer connection")
        verbose_name_plural = _("printer connections")
        ordering = ["-connected_at"]

    def __str__(self) -> str:
        return f"{self.reported_name or self.client_address} ({self.pk})"


class PrintJob(models.Model):
    """One receipt for one printer (or, with no printer, for every connected printer).

    Columns and defaults are the shop's original `print_job` table; this table is the
    delivery queue.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        PRINTING = "printing", _("Printing")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    class JobType(models.TextChoices):
        ORDER = "order", _("Order receipt")
        KITCHEN = "kitchen", _("Make ticket")
        VOID = "void", _("Void ticket")
        REPRINT = "reprint", _("Reprint")
        TEST = "test", _("Test print")
        TEXT = "text", _("Text")

    # Offered to a client and waiting for its status report.
    WAITING = (Status.PENDING, Status.SENT)
    # Held by a client: going back to pending when that client's socket is lost.
    HELD = (Status.SENT, Status.PRINTING)
    # Staff may put these back in the queue.
    RETRYABLE = (Status.FAILED, Status.EXPIRED, Status.CANCELLED)

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="print_jobs",
        verbose_name=_("order"),
    )
    printer = models.ForeignKey(
        PrinterConfig,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="jobs",
        verbose_name=_("printer"),
    )
    job_type = models.CharField(
        _("job type"), max_length=50, choices=JobType.choices, default=JobType.ORDER
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    print_content = models.TextField(_("content"), blank=True, default="")
    # The styled ticket (printing.paper.Document as JSON) the content was printed from, for
    # ESC/POS printers: sizes and alignment plain text cannot carry.
    layout = models.JSONField(_("layout"), null=True, blank=True, editable=False)
    # A copy printed again on staff's request, marked 重印 / REPRINT on the paper.
    is_reprint = models.BooleanField(_("reprint"), default=False)
    copies = models.IntegerField(
        _("copies"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    # 1 is the most urgent; equal priorities print oldest first.
    priority = models.IntegerField(
        _("priority"), default=5, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    error_message = models.TextField(_("error message"), null=True, blank=True)
    retry_count = models.IntegerField(_("retries"), default=0)
    max_retries = models.IntegerField(_("max retries"), default=3)
    # When the job last joined the queue (created, retried); expiry counts from here.
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    # A job that failed waits out its backoff before it is offered again.
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    delivery_attempts = models.IntegerField(_("delivery attempts"), default=0)
    sent_connection = models.ForeignKey(
        PrinterConnection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent on connection"),
    )
    # Set when the job was moved to its printer's backup; a job moves at most once.
    failover_from = models.ForeignKey(
        PrinterConfig,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moved from printer"),
    )

    class Meta:
        db_table = "print_job"
        verbose_name = _("print job")
        verbose_name_plural = _("print jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "printer", "priority", "created_at"], name="print_job_queue"
            ),
            models.Index(fields=["order", "job_type"], name="print_job_order"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"


class PrintJobEvent(models.Model):
    """One change of a job's state (or a client's word about it), for the history and logs."""

    job = models.ForeignKey(
        PrintJob, on_delete=models.CASCADE, related_name="events", verbose_name=_("print job")
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)
    # What happened, in one word: created, sent, received, printing, completed, failed,
    # retry_scheduled, ack_timeout, released, expired, cancelled, retried.
    event = models.CharField(_("event"), max_length=30)
    attempt = models.IntegerField(_("attempt"), default=0)
    connection = models.ForeignKey(
        PrinterConnection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("socket"),
    )
    # "client", "server", or "staff:<username>".
    actor = models.CharField(_("by"), max_length=150)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        db_table = "print_job_event"
        verbose_name = _("print job event")
        verbose_name_plural = _("print job events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["job", "created_at"], name="print_job_event_job")]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.from_status or '-'} -> {self.to_status} ({self.event})"


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
