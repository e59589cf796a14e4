from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from printing import services
from printing.models import PrinterConfig, PrinterConnection, PrintJob, PrintJobEvent


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
        "printer_type",
        "ip_address",
        "port",
        "paper_width",
        "print_copies",
        "is_active",
        "auto_print_orders",
        "open_connections",
    ]
    list_filter = ["is_active", "auto_print_orders", "paper_width", "printer_type"]
    search_fields = ["name", "ip_address", "description"]
    actions = ["test_print"]
    inlines = [OpenConnectionInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_count=Count("connections", filter=Q(connections__closed_at__isnull=True))
            )
        )

    @admin.display(description=_("connected sockets"), ordering="open_count")
    def open_connections(self, obj):
        return obj.open_count

    @admin.action(description=_("Send a test print"))
    def test_print(self, request, queryset):
        jobs = [
            services.print_job_create_test(printer=printer, actor=staff_actor(request))
            for printer in queryset
        ]
        self.message_user(
            request,
            ngettext("%d test print queued.", "%d test prints queued.", len(jobs)) % len(jobs),
            messages.SUCCESS,
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


def staff_actor(request) -> str:
    return f"staff:{request.user.get_username()}"


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
    actions = ["retry_jobs", "cancel_jobs"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Retry selected jobs (failed, expired or cancelled)"))
    def retry_jobs(self, request, queryset):
        done = sum(
            services.print_job_retry(job_id=pk, actor=staff_actor(request))
            for pk in queryset.values_list("pk", flat=True)
        )
        self._report(request, done, queryset.count(), _("retried"))

    @admin.action(description=_("Cancel selected jobs (pending or sent)"))
    def cancel_jobs(self, request, queryset):
        done = sum(
            services.print_job_cancel(job_id=pk, actor=staff_actor(request))
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
        return format_html(
            '<pre style="font-family: monospace; display: inline-block; padding: 8px;'
            ' border: 1px solid #ccc; background: #fff; color: #000">{}</pre>',
            obj.print_content,
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
