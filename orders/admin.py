from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from orders import services
from orders.models import Category, Order, OrderItem, ShopProfile
from printing.models import PrinterConfig
from printing.services import print_jobs_reprint
from shop.web import staff_actor


class CategoryForm(forms.ModelForm):
    # The many-to-many lives on the printer; here it is edited from the category's side.
    printers = forms.ModelMultipleChoiceField(
        label=_("printers"),
        queryset=PrinterConfig.objects.order_by("name"),
        required=False,
        widget=FilteredSelectMultiple(_("printers"), is_stacked=False),
        help_text=_(
            "Printers that take this category. A printer with no categories takes every item."
        ),
    )

    class Meta:
        model = Category
        fields = ["name", "sort_order"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["printers"].initial = list(
                self.instance.printers.values_list("pk", flat=True)
            )


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = ["name", "sort_order", "printer_names"]
    list_editable = ["sort_order"]
    search_fields = ["name"]
    ordering = ["sort_order", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("printers")

    @admin.display(description=_("printers"))
    def printer_names(self, obj):
        names = [printer.name for printer in obj.printers.all()]
        return ", ".join(sorted(names)) or "-"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The list's sort-order forms have no printers field: they leave the printers be.
        if "printers" in form.cleaned_data:
            form.instance.printers.set(form.cleaned_data["printers"])


@admin.register(ShopProfile)
class ShopProfileAdmin(admin.ModelAdmin):
    """One row: the changelist opens its form, created with the defaults on first visit."""

    fields = ["shop_name", "address_line", "footer_lines", "pickup_prefix", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ShopProfile.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if self.has_change_permission(request):
            profile, _created = ShopProfile.objects.get_or_create(pk=1)
        else:
            profile = ShopProfile.current()
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[profile.pk])
        )


class CupLabelReprintForm(forms.Form):
    printer = forms.ModelChoiceField(
        queryset=PrinterConfig.objects.filter(is_active=True, role=PrinterConfig.Role.LABEL),
        label=_("Label printer"),
    )
    label = forms.IntegerField(
        label=_("Cup number"),
        min_value=1,
        max_value=999,
        required=False,
        help_text=_("Only this cup's label (e.g. 2 of 2/4); empty reprints every cup's."),
    )


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 1
    fields = [
        "name",
        "category",
        "size",
        "temperature",
        "sugar",
        "toppings",
        "quantity",
        "unit_price",
    ]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "pickup_number",
        "order_type",
        "status",
        "total_amount",
        "customer_phone",
        "created_at",
    ]
    list_filter = ["status", "order_type", "created_at"]
    # ^pickup_number: a whole number (A012) or its start (A0) finds it.
    search_fields = [
        "=id",
        "^pickup_number",
        "customer_phone",
        "platform_order_no",
        "note",
        "items__name",
    ]
    readonly_fields = ["pickup_number", "total_amount", "created_at", "confirmed_at"]
    fields = [
        "status",
        "pickup_number",
        "order_type",
        "delivery_platform",
        "platform_order_no",
        "customer_phone",
        "note",
        "total_amount",
        "created_at",
        "confirmed_at",
    ]
    inlines = [OrderItemInline]
    actions = ["confirm_orders", "cancel_orders", "reprint_orders", "reprint_labels"]

    def save_model(self, request, obj, form, change):
        # The receipts list the items, and the inline items are saved after the order: so an
        # order confirmed in this form is saved unconfirmed first and confirmed in save_related.
        # A cancel goes through the service too, for its void tickets.
        was = form.initial.get("status") if change else None
        if obj.status == Order.Status.CONFIRMED and was != Order.Status.CONFIRMED:
            obj.status = was or Order.Status.PENDING
            obj._confirm_after_items = True
        elif obj.status == Order.Status.CANCELLED and was in (
            Order.Status.PENDING,
            Order.Status.CONFIRMED,
        ):
            obj.status = was
            obj._cancel_after_items = True
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        order = form.instance
        services.order_total_refresh(order=order)
        if getattr(order, "_confirm_after_items", False):
            confirmed = services.order_confirm(order_id=order.pk)
            order.status, order.confirmed_at = confirmed.status, confirmed.confirmed_at
            order.pickup_number = confirmed.pickup_number
        elif getattr(order, "_cancel_after_items", False):
            cancelled = services.order_cancel(order_id=order.pk, actor=staff_actor(request.user))
            order.status = cancelled.status

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
        # No printers chosen: the service's default, the receipt printers.
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

    @admin.action(description=_("Reprint cup labels of selected orders"), permissions=["change"])
    def reprint_labels(self, request, queryset):
        """The whole set of cup labels again, or one cup's (the one that smudged), on a label
        printer chosen on an intermediate page."""
        form = CupLabelReprintForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            printable = queryset.filter(status__in=[Order.Status.CONFIRMED, Order.Status.COMPLETED])
            try:
                jobs = [
                    job
                    for order in printable
                    for job in print_jobs_reprint(
                        order=order,
                        actor=staff_actor(request.user),
                        printer_ids=[form.cleaned_data["printer"].pk],
                        label=form.cleaned_data["label"],
                    )
                ]
            except ValueError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            self.message_user(
                request,
                ngettext("%d reprint queued.", "%d reprints queued.", len(jobs)) % len(jobs),
                messages.SUCCESS if jobs else messages.WARNING,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reprint cup labels"),
            "form": form,
            "orders": queryset,
            "action": "reprint_labels",
            "opts": self.model._meta,
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/orders/reprint_labels.html", context)

    @admin.action(description=_("Cancel selected orders"), permissions=["change"])
    def cancel_orders(self, request, queryset):
        actor = staff_actor(request.user)
        for pk in queryset.values_list("pk", flat=True):
            services.order_cancel(order_id=pk, actor=actor)
        self.message_user(request, _("Selected orders cancelled."), messages.SUCCESS)
