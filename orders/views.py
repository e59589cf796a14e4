"""The back-office order board: the counter's working screen."""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from orders import selectors, services
from orders.models import Category, Order
from printing.models import PrinterConfig
from printing.services import print_jobs_reprint
from shop.web import error, staff_actor, staff_json, staff_page, ui_labels


@staff_page("orders.view_order")
def board(request: HttpRequest):
    context = {
        "title": _("Order board"),
        "shop_name": settings.SHOP_NAME,
        "labels": ui_labels(),
        "categories": Category.objects.all(),
        "order_types": Order.OrderType.choices,
    }
    return render(request, "orders/board.html", context)


@require_GET
@staff_json("orders.view_order")
def board_data(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.board_snapshot())


@require_POST
@staff_json("orders.change_order")
def confirm(request: HttpRequest, order_id: int) -> JsonResponse:
    """Confirm (and print). A double click, or two staff at once, confirm once."""
    try:
        order = services.order_confirm(order_id=order_id)
    except Order.DoesNotExist:
        raise Http404 from None
    return JsonResponse({"id": order.pk, "status": order.status})


@require_POST
@staff_json("orders.change_order")
def cancel(request: HttpRequest, order_id: int) -> JsonResponse:
    try:
        order = services.order_cancel(order_id=order_id, actor=staff_actor(request.user))
    except Order.DoesNotExist:
        raise Http404 from None
    return JsonResponse({"id": order.pk, "status": order.status})


@require_POST
@staff_json("orders.change_order")
def reprint(request: HttpRequest, order_id: int) -> JsonResponse:
    order = get_object_or_404(Order, pk=order_id)
    if order.status not in (Order.Status.CONFIRMED, Order.Status.COMPLETED):
        return error("not_confirmed", "only confirmed orders can be reprinted", 409)
    chosen = request.POST.getlist("printer_ids")
    printer_ids = None
    if chosen:
        printer_ids = _reprint_printer_ids(chosen)
        if printer_ids is None:
            return error("invalid_field", "printer_ids must be ids of active printers", 400)
    cup = request.POST.get("label", "").strip()
    if cup and not (cup.isascii() and cup.isdigit() and 1 <= int(cup) <= 999):
        return error("invalid_field", "label must be a cup number from 1 to 999", 400)
    try:
        jobs = print_jobs_reprint(
            order=order,
            actor=staff_actor(request.user),
            printer_ids=printer_ids,
            label=int(cup) if cup else None,
        )
    except ValueError as exc:  # a cup number past the order's last cup
        return error("invalid_field", f"label: {exc}", 400)
    return JsonResponse({"jobs": [job.pk for job in jobs]}, status=201)


def _reprint_printer_ids(values: list[str]) -> set[int] | None:
    """The chosen printers' ids, or None when any is not an active printer."""
    if not all(value.isascii() and value.isdigit() and len(value) <= 18 for value in values):
        return None
    ids = {int(value) for value in values}
    found = PrinterConfig.objects.filter(
        pk__in=ids, is_active=True, role__in=selectors.REPRINT_ROLES
    ).count()
    return ids if found == len(ids) else None


@require_POST
@staff_json("orders.add_order")
def create_test_order(request: HttpRequest) -> JsonResponse:
    """A test order from the board's small form (pending, to be confirmed)."""
    name = request.POST.get("name", "").strip()[:100]
    try:
        quantity = int(request.POST.get("quantity") or 1)
    except ValueError:
        quantity = 0
    try:
        price = Decimal(request.POST.get("unit_price") or "0")
    except InvalidOperation:
        price = Decimal("NaN")
    if not name:
        return error("invalid_field", "name is required", 400)
    if not 1 <= quantity <= 99:
        return error("invalid_field", "quantity must be a whole number from 1 to 99", 400)
    # NaN and Infinity parse; comparing NaN raises (a 500), so finiteness comes first.
    if not price.is_finite() or not Decimal(0) <= price <= Decimal(9999):
        return error("invalid_field", "unit_price must be a number from 0 to 9999", 400)
    price = price.quantize(Decimal("0.01"))
    category_id = request.POST.get("category", "").strip()
    category = None
    if category_id:
        if category_id.isascii() and category_id.isdigit() and len(category_id) <= 18:
            category = Category.objects.filter(pk=int(category_id)).first()
        if category is None:
            return error("invalid_field", "category must be the id of a category", 400)
    order_type = request.POST.get("order_type") or Order.OrderType.DINE_IN
    if order_type not in Order.OrderType.values:
        return error(
            "invalid_field",
            f"order_type must be one of {', '.join(Order.OrderType.values)}",
            400,
        )
    delivery = order_type == Order.OrderType.DELIVERY
    # Like the other texts, cut to what the columns hold; the platform only for delivery.
    order = services.order_create(
        items=[
            {
                "name": name,
                "category": category,
                "size": request.POST.get("size", "")[:50],
                "temperature": request.POST.get("temperature", "")[:50],
                "sugar": request.POST.get("sugar", "")[:50],
                "toppings": request.POST.get("toppings", "").strip()[:200],
                "quantity": quantity,
                "unit_price": price,
            }
        ],
        customer_phone=request.POST.get("customer_phone", "")[:32],
        note=request.POST.get("note", "")[:500],
        order_type=order_type,
        delivery_platform=request.POST.get("delivery_platform", "").strip()[:30]
        if delivery
        else "",
        platform_order_no=request.POST.get("platform_order_no", "").strip()[:40]
        if delivery
        else "",
    )
    return JsonResponse({"id": order.pk, "status": order.status}, status=201)
