"""Print jobs, the delivery queue, and their history."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from printing.models.printers import PrinterConfig
from printing.models.servers import PrinterConnection


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
        LABEL = "label", _("Cup labels")
        ALARM = "alarm", _("Alarm slip")
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
    # ESC/POS printers: sizes and alignment plain text cannot carry. For cup labels, the
    # labels (printing.labels, as JSON), laid out for the printer's label stock when printed.
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
