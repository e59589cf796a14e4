"""Alerts: a printing problem or a waiting order that staff must not miss."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from printing.models.jobs import PrintJob
from printing.models.printers import PrinterConfig


class Alert(models.Model):
    """One condition, from when it was seen until it cleared. Opened once per condition (a
    printer's kind of problem, one order waiting): a unique constraint on the open alerts
    makes two server processes evaluating at once open one, not two."""

    class Kind(models.TextChoices):
        PRINTER_OFFLINE = "printer_offline", _("Printer offline")
        PAPER_OUT = "paper_out", _("Paper out")
        COVER_OPEN = "cover_open", _("Cover open")
        JOB_STUCK = "job_stuck", _("Ticket not printed")
        JOB_FAILED = "job_failed", _("Ticket failed")
        ORDER_WAITING = "order_waiting", _("Order waiting for confirmation")
        WEBHOOK_DISABLED = "webhook_disabled", _("Webhook endpoint disabled")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    # What the condition is about, e.g. "printer:3" or "order:12": one open alert each.
    subject = models.CharField(_("subject"), max_length=64)
    printer = models.ForeignKey(
        PrinterConfig,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("printer"),
    )
    job = models.ForeignKey(
        PrintJob,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("print job"),
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("order"),
    )
    # Every job the condition covers (a backlog is one alert listing its jobs).
    job_ids = models.JSONField(_("jobs"), default=list, blank=True)
    message = models.TextField(_("message"))
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now, db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.CharField(_("acknowledged by"), max_length=150, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, db_index=True)
    # The slip printed on the shop's alarm printer for it, at most one.
    alarm_job = models.ForeignKey(
        PrintJob,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("alarm slip"),
    )

    class Meta:
        db_table = "print_alert"
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=models.Q(resolved_at__isnull=True),
                name="print_alert_open_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"

    @property
    def severity(self) -> str:
        """ "order" for a waiting order, "printing" for the rest: the banner's colour."""
        return "order" if self.kind == self.Kind.ORDER_WAITING else "printing"
