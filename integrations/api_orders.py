"""Orders in: create (and confirm at once), read with each ticket's state, confirm, cancel,
reprint. Every write takes an Idempotency-Key."""

from decimal import Decimal

import pydantic
from django.http import HttpRequest, JsonResponse
from ninja import Router

from integrations.access import ApiError
from integrations.api_auth import KeyOrStaff
from integrations.idempotency import HEADER, idempotent
from integrations.models import Scope
from integrations.schemas import Error, OrderIn, OrderOut, ReprintIn, ReprintOut
from integrations.selectors import order_answer
from orders.models import Category, Order
from orders.services import order_cancel, order_confirm, order_create
from printing.models import PrinterConfig
from printing.services import print_jobs_reprint

router = Router(tags=["orders"])

WRITE = KeyOrStaff(Scope.ORDERS_WRITE, "orders.change_order")
ERRORS = {code: Error for code in (400, 401, 403, 404, 409, 413)}
IDEMPOTENCY = {
    "parameters": [
        {
            "in": "header",
            "name": HEADER,
            "required": False,
            "schema": {"type": "string", "maxLength": 255},
            "description": "Retry-safe: the same key with the same body within 24 h returns "
            "the first answer (200) and does nothing again; with another body, 409.",
        }
    ]
}


@router.post(
    "/orders",
    auth=KeyOrStaff(Scope.ORDERS_WRITE, "orders.add_order"),
    response={201: OrderOut, 200: OrderOut, **ERRORS},
    summary="Create an order (confirm=true: print it now)",
    openapi_extra=IDEMPOTENCY,
)
def order_post(request: HttpRequest, payload: OrderIn):
    return _idempotent(request, lambda: (201, _created(payload)))


@router.get(
    "/orders/{order_id}",
    auth=KeyOrStaff(Scope.ORDERS_READ, "orders.view_order"),
    response={200: OrderOut, **ERRORS},
    summary="An order with each ticket's job state",
)
def order_get(request: HttpRequest, order_id: int):
    return JsonResponse(_order(order_id))


@router.post(
    "/orders/{order_id}/confirm",
    auth=WRITE,
    response={200: OrderOut, **ERRORS},
    summary="Confirm a pending order: its tickets print (again: nothing happens)",
    openapi_extra=IDEMPOTENCY,
)
def order_confirm_post(request: HttpRequest, order_id: int):
    def act():
        if _order(order_id)["status"] == Order.Status.CANCELLED:
            raise ApiError(409, "order_cancelled", "a cancelled order cannot be confirmed")
        order_confirm(order_id=order_id)
        return 200, _order(order_id)

    return _idempotent(request, act)


@router.post(
    "/orders/{order_id}/cancel",
    auth=WRITE,
    response={200: OrderOut, **ERRORS},
    summary="Cancel an order: printers that printed it get a void ticket",
    openapi_extra=IDEMPOTENCY,
)
def order_cancel_post(request: HttpRequest, order_id: int):
    def act():
        if _order(order_id)["status"] == Order.Status.COMPLETED:
            raise ApiError(409, "order_completed", "a completed order cannot be cancelled")
        order_cancel(order_id=order_id, actor=request.auth.actor)
        return 200, _order(order_id)

    return _idempotent(request, act)


@router.post(
    "/orders/{order_id}/reprint",
    auth=WRITE,
    response={201: ReprintOut, 200: ReprintOut, **ERRORS},
    summary="Print a confirmed order's tickets again, marked 重印 / REPRINT",
    openapi_extra={
        **IDEMPOTENCY,
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": ReprintIn.model_json_schema()}},
        },
    },
)
def order_reprint_post(request: HttpRequest, order_id: int):
    # The body is optional (none: the receipt printers), which ninja's body parameters are not.
    payload = _reprint_choice(request.body)

    def act():
        order = Order.objects.filter(pk=order_id).first()
        if order is None:
            raise ApiError(404, "not_found", f"no order {order_id}")
        if order.status not in (Order.Status.CONFIRMED, Order.Status.COMPLETED):
            raise ApiError(409, "not_confirmed", "only confirmed orders can be reprinted")
        chosen = payload.printers if payload else None
        jobs = print_jobs_reprint(
            order=order, actor=request.auth.actor, printer_ids=_printer_ids(chosen)
        )
        if not jobs:
            raise ApiError(409, "no_printer", "no active printer prints this order's tickets")
        return 201, {"order": _order(order_id), "job_ids": [job.pk for job in jobs]}

    return _idempotent(request, act)


def _reprint_choice(body: bytes) -> ReprintIn | None:
    if not body.strip():
        return None
    try:
        return ReprintIn.model_validate_json(body)
    except pydantic.ValidationError as exc:
        fields = {
            ".".join(str(p) for p in problem["loc"]) or "body": problem["msg"]
            for problem in exc.errors()
        }
        field, message = next(iter(fields.items()))
        if exc.errors()[0]["type"] == "json_invalid":
            raise ApiError(400, "invalid_json", "the body is not JSON") from None
        raise ApiError(400, "invalid_field", f"{field}: {message}", fields=fields) from None


def _idempotent(request: HttpRequest, act) -> JsonResponse:
    status, body = idempotent(request, caller=request.auth, act=act)
    return JsonResponse(body, status=status)


def _order(order_id: int) -> dict:
    found = order_answer(order_id=order_id)
    if found is None:
        raise ApiError(404, "not_found", f"no order {order_id}")
    return found


def _created(payload: OrderIn) -> dict:
    categories = _categories(payload)
    total = sum((item.unit_price * item.quantity for item in payload.items), Decimal("0.00"))
    if payload.total_amount is not None and payload.total_amount != total:
        raise ApiError(
            400,
            "total_mismatch",
            f"total_amount {payload.total_amount} is not the items' sum {total:.2f}",
            fields={"total_amount": f"the items add up to {total:.2f}"},
        )
    order = order_create(
        items=[
            {
                "name": item.name,
                "category": categories.get(item.category) if item.category else None,
                "size": item.size,
                "temperature": item.temperature,
                "sugar": item.sugar,
                "toppings": ", ".join(item.toppings),
                "quantity": item.quantity,
                "unit_price": item.unit_price,
            }
            for item in payload.items
        ],
        order_type=payload.order_type,
        delivery_platform=payload.delivery_platform,
        platform_order_no=payload.platform_order_no,
        note=payload.note,
        customer_phone=payload.customer_phone,
        confirm=payload.confirm,
    )
    return _order(order.pk)


def _categories(payload: OrderIn) -> dict[str, Category]:
    """The items' categories by name. An unknown one is refused, not created: a typo would
    make a category no station prints, and its drinks would reach no make ticket."""
    names = {item.category for item in payload.items if item.category}
    found = {c.name: c for c in Category.objects.filter(name__in=names)}
    unknown = {
        f"items.{index}.category": f"unknown category {item.category!r}"
        for index, item in enumerate(payload.items)
        if item.category and item.category not in found
    }
    if unknown:
        known = ", ".join(Category.objects.values_list("name", flat=True)) or "none"
        raise ApiError(
            400, "unknown_category", f"{next(iter(unknown.values()))}; known: {known}",
            fields=unknown,
        )  # fmt: skip
    return found


def _printer_ids(chosen: list[int | str] | None) -> set[int] | None:
    if chosen is None:
        return None
    printers = PrinterConfig.objects.filter(is_active=True)
    by_id = {p.pk: p.pk for p in printers}
    by_name = {p.name: p.pk for p in printers}
    ids, unknown = set(), []
    for value in chosen:
        pk = by_id.get(value) if isinstance(value, int) else by_name.get(value)
        if pk is None:
            unknown.append(str(value))
        else:
            ids.add(pk)
    if unknown:
        raise ApiError(
            400, "unknown_printer", f"no active printer {', '.join(unknown)}",
            fields={"printers": f"unknown: {', '.join(unknown)}"},
        )  # fmt: skip
    return ids
