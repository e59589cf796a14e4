"""The back-office order board: the counter's working screen."""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from orders import selectors, services
from orders.models import Order
from printing.services import print_jobs_reprint
from shop.web import error, staff_actor, staff_json, staff_page, ui_labels


@staff_page("orders.view_order")
def board(request: HttpRequest):
    context = {"title": _("Order board"), "shop_name": settings.SHOP_NAME, "labels": ui_labels()}
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
        order = services.order_cancel(order_id=order_id)
    except Order.DoesNotExist:
        raise Http404 from None
    return JsonResponse({"id": order.pk, "status": order.status})


@require_POST
@staff_json("orders.change_order")
def reprint(request: HttpRequest, order_id: int) -> JsonResponse:
    order = get_object_or_404(Order, pk=order_id)
    if order.status not in (Order.Status.CONFIRMED, Order.Status.COMPLETED):
        return error("not_confirmed", "only confirmed orders can be reprinted", 409)
    jobs = print_jobs_reprint(order=order, actor=staff_actor(request.user))
    return JsonResponse({"jobs": [job.pk for job in jobs]}, status=201)


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
    order = services.order_create(
        items=[
            {
                "name": name,
                "size": request.POST.get("size", "")[:50],
                "temperature": request.POST.get("temperature", "")[:50],
                "sugar": request.POST.get("sugar", "")[:50],
                "quantity": quantity,
                "unit_price": price,
            }
        ],
        customer_phone=request.POST.get("customer_phone", "")[:32],
        note=request.POST.get("note", "")[:500],
    )
    return JsonResponse({"id": order.pk, "status": order.status}, status=201)
