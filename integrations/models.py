"""What other systems hold here: API keys, the answers kept for their Idempotency-Keys, and
webhook endpoints with the outbox of deliveries owed to them."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    ORDERS_WRITE = "orders:write", _("Create, confirm, cancel and reprint orders")
    ORDERS_READ = "orders:read", _("Read orders and their tickets")
    JOBS_WRITE = "jobs:write", _("Send text print jobs")
    PRINTERS_READ = "printers:read", _("Read printer status")
    ALERTS_READ = "alerts:read", _("Read and acknowledge alerts")
    WEBHOOKS_WRITE = "webhooks:write", _("Manage webhook endpoints")


class ApiKey(models.Model):
    """A key another system sends as `Authorization: Bearer <key>`. Only its SHA-256 is
    kept: the key is shown once, when it is made."""

    name = models.CharField(_("name"), max_length=100, help_text=_("Who uses it, e.g. 小程序."))
    # The key's first characters, to tell keys apart in lists and logs.
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.CharField(_("created by"), max_length=150, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        db_table = "integration_api_key"
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an Idempotency-Key, per caller, for 24 h.

    Written in the transaction that does the work: a second request with the key waits on
    the unique constraint until the first commits, then gets its answer.
    """

    caller = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and body: the same key with another request is a conflict.
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "integration_idempotency"
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="integration_idempotency_once")
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"


class Event(models.TextChoices):
    JOB_COMPLETED = "job.completed", _("Ticket printed")
    JOB_FAILED = "job.failed", _("Ticket failed")
    JOB_EXPIRED = "job.expired", _("Ticket expired")
    ORDER_PRINTED = "order.printed", _("Every ticket of an order printed")
    ORDER_CANCELLED = "order.cancelled", _("Order cancelled")
    PRINTER_ONLINE = "printer.online", _("Printer online")
    PRINTER_OFFLINE = "printer.offline", _("Printer offline")
    ALERT_OPENED = "alert.opened", _("Alert opened")
    ALERT_RESOLVED = "alert.resolved", _("Alert resolved")


class WebhookEndpoint(models.Model):
    """A URL told about the events it chose, each request signed with its secret."""

    url = models.URLField(_("URL"), max_length=500)
    # Kept as given: signing needs the secret itself, not a hash of it.
    secret = models.CharField(_("secret"), max_length=200)
    events = models.JSONField(_("events"), default=list)
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.CharField(_("created by"), max_length=150, blank=True, editable=False)
    # Since when every delivery failed (none succeeded since); cleared by a success.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=200, blank=True)

    class Meta:
        db_table = "integration_webhook_endpoint"
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event owed to one endpoint: the outbox row, written in the transaction of the
    change it reports, sent (and retried) by the server processes."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Gave up")

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("webhook endpoint"),
    )
    # X-Webhook-Id: the same on every attempt, for the receiver's dedupe.
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    # What the event is about ("job:12", "order:5"): one subject's events go out in order.
    subject = models.CharField(_("subject"), max_length=64)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Claiming an attempt moves this to when it would be retried: a process killed while
    # sending leaves the delivery due again, not lost.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        db_table = "integration_webhook_delivery"
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id}"


class PrinterPresence(models.Model):
    """Each printer's online state as last told to webhooks: printer.online/offline is sent
    by the process whose conditional update changed it, once per change."""

    printer = models.OneToOneField(
        "printing.PrinterConfig", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    online = models.BooleanField()
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "integration_printer_presence"

    def __str__(self) -> str:
        return f"{self.printer_id}: {'online' if self.online else 'offline'}"
