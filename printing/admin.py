from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count, Max, Q
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from printing import alerts, services
from printing.models import Alert, PrinterConfig, PrinterConnection, PrintJob, PrintJobEvent
from printing.paper import columns_for
from shop.web import staff_actor


class OpenConnectionInline(admin.TabularInline):
    """The sockets bound to this printer right now, with what each client said about itself."""

    model = PrinterConnection
    verbose_name = _("open connection")
    verbose_name_plural = _("open connections")
    fields = [
        "reported_name",
        "reported_model",
        "reported_status",
        "client_address",
        "connected_at",
        "last_seen",
        "printer_info",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(closed_at__isnull=True)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PrinterConfig)
class PrinterConfigAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "role",
        "connection_type",
        "address",
        "paper_width",
        "is_active",
        "online",
        "last_seen",
        "auto_print_orders",
        "backup_printer",
        "has_token",
    ]
    list_filter = ["is_active", "role", "connection_type", "auto_print_orders", "paper_width"]
    filter_horizontal = ["categories"]
    search_fields = ["name", "ip_address", "description"]
    readonly_fields = [
        "token_issued_at",
        "network_status",
        "network_checked_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "is_active",
                    "auto_print_orders",
                    "print_copies",
                    "paper_width",
                    "printer_type",
                    "description",
                ]
            },
        ),
        (
            _("Tickets"),
            {
                "fields": ["role", "categories"],
                "description": _(
                    "Receipt: the customer receipt of the whole order. Station: a make ticket "
                    "with only the items of its categories (none selected: every item). Label: "
                    "one cup label per drink of its categories, in TSPL."
                ),
            },
        ),
        (
            _("Connection"),
            {
                "fields": [
                    "connection_type",
                    "ip_address",
                    "port",
                    "backup_printer",
                    "alarm_printer",
                    "status_query",
                ]
            },
        ),
        (
            _("ESC/POS"),
            {
                "fields": [
                    "encoding",
                    "chinese_mode",
                    "cut_mode",
                    "header_style",
                    "cash_drawer",
                    "buzzer",
                    "qr_code",
                    "escpos_profile",
                ]
            },
        ),
        (
            _("Cup labels (TSPL)"),
            {
                "fields": [
                    "label_width_mm",
                    "label_height_mm",
                    "label_gap_mm",
                    "label_dpi",
                    "label_density",
                    "label_direction",
                ],
                "description": _(
                    "For printers with role Label. Text encoding (above) GB18030, GBK or Big5; "
                    "the QR code setting adds the pickup number's QR code to each label."
                ),
            },
        ),
        (
            _("State"),
            {
                "fields": [
                    "token_issued_at",
                    "network_status",
                    "network_checked_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]
    actions = ["test_print", "enable", "disable", "issue_token"]
    inlines = [OpenConnectionInline]

    def get_queryset(self, request):
        cutoff = timezone.now() - timedelta(seconds=settings.PRINT_ONLINE_TIMEOUT)
        fresh = Q(connections__closed_at__isnull=True, connections__last_seen__gte=cutoff)
        return (
            super()
            .get_queryset(request)
            .select_related("backup_printer")
            .annotate(
                live_sockets=Count("connections", filter=fresh),
                seen=Max("connections__last_seen", filter=Q(connections__isnull=False)),
            )
        )

    @admin.display(description=_("online"), boolean=True, ordering="live_sockets")
    def online(self, obj):
        return obj.live_sockets > 0

    @admin.display(description=_("last seen"), ordering="seen")
    def last_seen(self, obj):
        return obj.seen

    @admin.display(description=_("token"), boolean=True)
    def has_token(self, obj):
        return bool(obj.token_hash)

    @admin.display(description=_("address"), ordering="ip_address")
    def address(self, obj):
        return f"{obj.ip_address}:{obj.port}" if obj.ip_address else "-"

    def has_print_permission(self, request) -> bool:
        # A test print is a new print job.
        return request.user.has_perm("printing.add_printjob")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            services.printer_changed(printer_id=obj.pk)

    @admin.action(description=_("Send a test print"), permissions=["print"])
    def test_print(self, request, queryset):
        jobs = [
            services.print_job_create_test(printer=printer, actor=staff_actor(request.user))
            for printer in queryset
        ]
        self.message_user(
            request,
            ngettext("%d test print queued.", "%d test prints queued.", len(jobs)) % len(jobs),
            messages.SUCCESS,
        )

    @admin.action(description=_("Enable selected printers"), permissions=["change"])
    def enable(self, request, queryset):
        for printer in queryset:
            services.printer_set_active(printer=printer, active=True)
        self.message_user(request, _("Printers enabled."), messages.SUCCESS)

    @admin.action(
        description=_("Disable selected printers (closes their sockets)"), permissions=["change"]
    )
    def disable(self, request, queryset):
        for printer in queryset:
            services.printer_set_active(printer=printer, active=False)
        self.message_user(request, _("Printers disabled."), messages.SUCCESS)

    @admin.action(
        description=_("Issue a new token (the old one stops working)"), permissions=["change"]
    )
    def issue_token(self, request, queryset):
        for printer in queryset:
            token = services.printer_token_issue(printer=printer)
            self.message_user(
                request,
                _("New token for %(printer)s (shown only now): %(token)s")
                % {"printer": printer.name, "token": token},
                messages.WARNING,
            )


class PrintJobEventInline(admin.TabularInline):
    model = PrintJobEvent
    fields = [
        "created_at",
        "event",
        "from_status",
        "to_status",
        "attempt",
        "connection",
        "actor",
        "message",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("history")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PrintJob)
class PrintJobAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "order",
        "printer",
        "job_type",
        "status",
        "delivery_attempts",
        "retry_count",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "job_type", "printer", "created_at"]
    search_fields = ["=id", "=order__id", "print_content"]
    list_select_related = ["order", "printer"]
    readonly_fields = [
        "order",
        "printer",
        "job_type",
        "status",
        "receipt",
        "preview",
        "copies",
        "priority",
        "created_at",
        "queued_at",
        "not_before",
        "sent_at",
        "received_at",
        "started_at",
        "completed_at",
        "delivery_attempts",
        "sent_connection",
        "error_message",
        "retry_count",
        "max_retries",
    ]
    exclude = ["print_content"]
    inlines = [PrintJobEventInline]

    class Media:
        css = {"all": ["printing/preview.css"]}

    actions = ["retry_jobs", "cancel_jobs"]

    def has_add_permission(self, request):
        return False

    @admin.action(
        description=_("Retry selected jobs (failed, expired or cancelled)"), permissions=["change"]
    )
    def retry_jobs(self, request, queryset):
        done = sum(
            services.print_job_retry(job_id=pk, actor=staff_actor(request.user))
            for pk in queryset.values_list("pk", flat=True)
        )
        self._report(request, done, queryset.count(), _("retried"))

    @admin.action(description=_("Cancel selected jobs (pending or sent)"), permissions=["change"])
    def cancel_jobs(self, request, queryset):
        done = sum(
            services.print_job_cancel(job_id=pk, actor=staff_actor(request.user))
            for pk in queryset.values_list("pk", flat=True)
        )
        self._report(request, done, queryset.count(), _("cancelled"))

    def _report(self, request, done: int, selected: int, verb) -> None:
        self.message_user(
            request,
            _("%(done)d of %(selected)d jobs %(verb)s; the others were not in a state for it.")
            % {"done": done, "selected": selected, "verb": verb},
            messages.SUCCESS if done == selected else messages.WARNING,
        )

    @admin.display(description=_("receipt"))
    def receipt(self, obj):
        width = obj.printer.paper_width if obj.printer else 80
        return format_html(
            '<link rel="stylesheet" href="{}"><div class="receipt-paper" style="min-width: {}ch"'
            ' data-paper-width="{}">{}</div>',
            static("printing/print.css"),
            columns_for(width),
            width,
            obj.print_content,
        )

    @admin.display(description=_("paper preview"))
    def preview(self, obj):
        """The paper as the printer makes it of the bytes it is sent; loaded when scrolled to,
        full size in a new tab."""
        url = reverse("printing:job_preview", args=[obj.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener" title="{}">'
            '<img src="{}" loading="lazy" class="paper-preview thumb" alt="{}"></a>',
            url,
            _("Open full size"),
            url,
            _("paper preview of job %(job)s") % {"job": obj.pk},
        )


@admin.register(PrinterConnection)
class PrinterConnectionAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "printer",
        "reported_name",
        "reported_model",
        "client_address",
        "connected_at",
        "last_seen",
        "closed_at",
        "close_code",
    ]
    list_filter = [("closed_at", admin.EmptyFieldListFilter), "printer"]
    search_fields = ["reported_name", "client_address"]
    list_select_related = ["printer"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["kind", "message", "printer", "opened_at", "acknowledged_at", "resolved_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter), "printer", "opened_at"]
    search_fields = ["message", "subject"]
    readonly_fields = [
        "kind",
        "subject",
        "printer",
        "job",
        "order",
        "job_ids",
        "message",
        "opened_at",
        "acknowledged_at",
        "acknowledged_by",
        "resolved_at",
        "alarm_job",
    ]
    actions = ["acknowledge"]

    def has_add_permission(self, request) -> bool:
        # Alerts are opened by the server when a condition holds, never by hand.
        return False

    @admin.action(description=_("Acknowledge selected alerts"), permissions=["change"])
    def acknowledge(self, request, queryset):
        for pk in queryset.values_list("pk", flat=True):
            alerts.alert_acknowledge(alert_id=pk, actor=staff_actor(request.user))
        self.message_user(request, _("Alerts acknowledged."), messages.SUCCESS)
