"""Server processes and printer sockets, as the delivery sees them."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from printing.models.printers import PrinterConfig


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
