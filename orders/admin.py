from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from orders import services
from orders.models import Order, OrderItem
from printing.services import print_jobs_reprint
from shop.web import staff_actor


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 1
    fields = ["name", "size", "temperature", "sugar", "quantity", "unit_price"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "total_amount", "customer_phone", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["=id", "customer_phone", "note", "items__name"]
    readonly_fields = ["total_amount", "created_at", "confirmed_at"]
    fields = ["status", "customer_phone", "note", "total_amount", "created_at", "confirmed_at"]
    inlines = [OrderItemInline]
    actions = ["confirm_orders", "cancel_orders", "reprint_orders"]

    def save_model(self, request, obj, form, change):
        # The receipts list the items, and the inline items are saved after the order: so an
        # order confirmed in this form is saved unconfirmed first and confirmed in save_related.
        was = form.initial.get("status") if change else None
        if obj.status == Order.Status.CONFIRMED and was != Order.Status.CONFIRMED:
            obj.status = was or Order.Status.PENDING
            obj._confirm_after_items = True
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        order = form.instance
        services.order_total_refresh(order=order)
        if getattr(order, "_confirm_after_items", False):
            confirmed = services.order_confirm(order_id=order.pk)
            order.status, order.confirmed_at = confirmed.status, confirmed.confirmed_at

    @admin.action(description=_("Confirm selected orders (print receipts)"), permissions=["change"])
    def confirm_orders(self, request, queryset):
        confirmed = len(services.orders_confirm(order_ids=queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%d order confirmed.", "%d orders confirmed.", confirmed) % confirmed,
            messages.SUCCESS,
        )

    @admin.action(description=_("Reprint receipts of selected orders"), permissions=["change"])
    def reprint_orders(self, request, queryset):
        printable = queryset.filter(status__in=[Order.Status.CONFIRMED, Order.Status.COMPLETED])
        jobs = [
            job
            for order in printable
            for job in print_jobs_reprint(order=order, actor=staff_actor(request.user))
        ]
        self.message_user(
            request,
            ngettext("%d reprint queued.", "%d reprints queued.", len(jobs)) % len(jobs),
            messages.SUCCESS if jobs else messages.WARNING,
        )

    @admin.action(description=_("Cancel selected orders"), permissions=["change"])
    def cancel_orders(self, request, queryset):
        for pk in queryset.values_list("pk", flat=True):
            services.order_cancel(order_id=pk)
        self.message_user(request, _("Selected orders cancelled."), messages.SUCCESS)
