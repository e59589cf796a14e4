"""The JSON API: printer status for dashboards and monitoring, and jobs from integrations.

Staff sessions may call it from the browser; other servers send an API key (made in the
admin, with scopes, or one of PRINT_API_KEYS) as `Authorization: Bearer KEY`.
"""

import json
from functools import wraps

import redis
from django.conf import settings
from django.contrib import admin
from django.db import connection
from django.db.models import QuerySet
from django.forms import modelform_factory
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.access import ApiError, caller_identify
from integrations.models import Scope
from orders.models import ShopProfile
from printing import alerts, printer_bytes, protocol, selectors, services
from printing.models import TEST_CLIENT_PERMISSION, PrinterConfig, PrintJob
from printing.paper import printable
from shop.web import error, staff_actor, staff_json, staff_page, ui_labels


def api_view(permission: str, *, scope: str):
    """An API key with this scope (or one of PRINT_API_KEYS), or a staff session (with its
    CSRF protection) holding this model permission; no credentials get 401, a key without
    the scope or staff without the permission 403."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            try:
                request.api_actor = caller_identify(
                    request, scope=scope, permission=permission
                ).actor
            except ApiError as refused:
                return error(refused.code, refused.message, refused.status)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


@require_GET
@api_view("printing.view_printerconfig", scope=Scope.PRINTERS_READ)
def printers_status(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"printers": selectors.printers_status()})


@require_POST
@api_view("printing.add_printjob", scope=Scope.JOBS_WRITE)
def job_create(request: HttpRequest) -> JsonResponse:
    """POST {"printer": name or id, "content": text, "copies": 1, "priority": 5}."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return error("invalid_json", "the body is not JSON", 400)
    if not isinstance(body, dict):
        return error("invalid_json", "the body must be a JSON object", 400)
    content, copies, priority = body.get("content"), body.get("copies", 1), body.get("priority", 5)
    if isinstance(content, str):
        # Control characters would reach the printer as commands (a drawer kick, a cut).
        content = printable(content)
    if not isinstance(content, str) or not content.strip() or len(content) > 20_000:
        return error("invalid_field", "content must be text of 1 to 20000 characters", 400)
    for name, value in (("copies", copies), ("priority", priority)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
            return error("invalid_field", f"{name} must be a whole number from 1 to 10", 400)
    target = body.get("printer")
    printers = PrinterConfig.objects.filter(is_active=True)
    if isinstance(target, int) and not isinstance(target, bool):
        printer = printers.filter(pk=target).first()
    elif isinstance(target, str):
        printer = printers.filter(name=target).first()
    else:
        return error("invalid_field", "printer must be an active printer's name or id", 400)
    if printer is None:
        return error("unknown_printer", f"no active printer {target!r}", 404)
    job = services.print_job_create(
        printer=printer,
        content=content if content.endswith("\n") else content + "\n",
        job_type=PrintJob.JobType.TEXT,
        copies=copies,
        priority=priority,
        actor=request.api_actor,
        message="created through the API",
    )
    return JsonResponse(
        {"job_id": job.pk, "printer": printer.name, "status": job.status}, status=201
    )


# The print dashboard and the WebSocket test tool (staff with model permissions: view to
# see, change to act; a test print adds a job; the test tool has a permission of its own)

SEE_PRINTING = ("printing.view_printerconfig", "printing.view_printjob")


def _active_printer(printer_id: str) -> QuerySet[PrinterConfig]:
    """The active printer a form names by id; none for anything that is not an id."""
    pk = int(printer_id) if printer_id.isascii() and printer_id.isdigit() else 0
    return PrinterConfig.objects.filter(is_active=True, pk=pk)


def _print_page(request: HttpRequest, template: str, title: str):
    """A staff page inside the admin's frame, with the active printers to choose from."""
    context = {
        **admin.site.each_context(request),
        "title": title,
        "printers": PrinterConfig.objects.filter(is_active=True).order_by("name"),
        "labels": ui_labels(),
    }
    return render(request, template, context)


@staff_page(*SEE_PRINTING)
def dashboard(request: HttpRequest):
    return _print_page(request, "printing/dashboard.html", _("Print dashboard"))


@require_GET
@staff_json(*SEE_PRINTING)
def dashboard_data(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.dashboard_snapshot())


@require_POST
@staff_json("printing.add_printjob")
def test_print(request: HttpRequest) -> JsonResponse:
    """Test print on one printer (`printer` = id) or on every active one (`printer` = all)."""
    target = request.POST.get("printer", "")
    printers = PrinterConfig.objects.filter(is_active=True)
    if target != "all":
        printers = _active_printer(target)
    jobs = [
        services.print_job_create_test(printer=p, actor=staff_actor(request.user)) for p in printers
    ]
    if not jobs:
        return error("unknown_printer", "no such active printer", 404)
    return JsonResponse({"jobs": [job.pk for job in jobs]}, status=201)


@require_POST
@staff_json("printing.change_printjob")
def retry_failed(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"retried": services.print_jobs_retry_failed(actor=staff_actor(request.user))}
    )


@staff_page(TEST_CLIENT_PERMISSION)
def test_client(request: HttpRequest):
    return _print_page(request, "printing/test_client.html", _("WebSocket test client"))


@require_POST
@staff_json(TEST_CLIENT_PERMISSION)
def ticket(request: HttpRequest) -> JsonResponse:
    """A one-minute, single-use pass for this browser to open a printer socket as the chosen
    printer."""
    printer = _active_printer(request.POST.get("printer", "")).first()
    if printer is None:
        return error("unknown_printer", "no such active printer", 404)
    ticket = services.printer_ticket_issue(printer=printer, user=request.user)
    return JsonResponse({"ticket": ticket, "printer": printer.name})


@require_GET
@api_view("printing.view_printjob", scope=Scope.ALERTS_READ)
def alerts_list(request: HttpRequest) -> JsonResponse:
    """The open alerts, newest first: what the board and the dashboard sound for."""
    return JsonResponse({"alerts": alerts.alerts_open()})


@require_POST
@api_view("printing.view_printjob", scope=Scope.ALERTS_READ)
def alert_acknowledge(request: HttpRequest, alert_id: int) -> JsonResponse:
    """Silence an alert; it stays open until its condition clears."""
    alert = alerts.alert_acknowledge(alert_id=alert_id, actor=request.api_actor)
    if alert is None:
        return error("unknown_alert", "no such alert", 404)
    return JsonResponse({"id": alert.pk, "acknowledged": True})


@require_GET
@staff_json("printing.view_printjob")
def job_detail(request: HttpRequest, job_id: int) -> JsonResponse:
    job = PrintJob.objects.filter(pk=job_id).select_related("printer").first()
    if job is None:
        return error("unknown_job", "no such job", 404)
    events = list(job.events.values("created_at", "event", "from_status", "to_status", "message"))
    return JsonResponse(
        {
            "id": job.pk,
            "status": job.status,
            "printer": job.printer.name if job.printer else None,
            "events": [{**e, "created_at": e["created_at"].isoformat()} for e in events],
        }
    )


# Previews: the paper a printer makes of the bytes it is sent


@require_GET
@staff_page("printing.view_printjob")
def job_preview(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(PrintJob.objects.select_related("printer"), pk=job_id)
    try:
        preview = printer_bytes.job_preview(job)
    except ValueError as exc:
        return error("unprintable", str(exc), 409)
    return _png(preview)


# The settings as typed in the printer's form, before it is saved.
SAMPLE_FIELDS = [
    "name",
    "role",
    "paper_width",
    "encoding",
    "chinese_mode",
    "cut_mode",
    "header_style",
    "qr_code",
    "escpos_profile",
    "label_width_mm",
    "label_height_mm",
    "label_gap_mm",
    "label_dpi",
    "label_density",
    "label_direction",
]
SampleForm = modelform_factory(PrinterConfig, fields=SAMPLE_FIELDS)


@require_POST
@staff_json("printing.view_printerconfig")
def printer_sample_preview(request: HttpRequest) -> HttpResponse:
    """A sample order as a printer with these settings would print it (nothing is saved)."""
    form = SampleForm(request.POST)
    # The form runs the printer's own checks (label sizes, the ESC/POS profile); a name
    # already taken is fine for a preview: the printer's own form refuses it on saving.
    errors = {name: messages for name, messages in form.errors.items() if name != "name"}
    if errors:
        return _invalid(errors)
    try:
        preview = printer_bytes.sample_preview(printer=form.instance, profile=ShopProfile.current())
    except ValueError as exc:
        return error("invalid_field", str(exc), 400)
    return _png(preview)


TicketTextForm = modelform_factory(
    ShopProfile, fields=["shop_name", "address_line", "footer_lines", "pickup_prefix"]
)


@require_POST
@staff_json("orders.view_shopprofile")
def ticket_text_preview(request: HttpRequest) -> HttpResponse:
    """The sample receipt with the ticket text as typed (nothing is saved), on 80 mm."""
    form = TicketTextForm(request.POST)
    if not form.is_valid():
        return _invalid(form.errors)
    receipt_printer = PrinterConfig(role=PrinterConfig.Role.RECEIPT)
    return _png(printer_bytes.sample_preview(printer=receipt_printer, profile=form.save(False)))


def _png(preview: printer_bytes.Preview) -> HttpResponse:
    response = HttpResponse(preview.png, content_type="image/png")
    # Settings change under the same URL: never show yesterday's paper.
    response["Cache-Control"] = "no-store"
    return response


def _invalid(errors) -> JsonResponse:
    fields = {name: [str(message) for message in messages] for name, messages in errors.items()}
    first = next(iter(fields), "")
    return JsonResponse(
        {"error": "invalid_field", "message": f"{first}: {' '.join(fields.get(first, []))}",
         "fields": fields},
        status=400,
    )  # fmt: skip


# Health


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the channel layer answer, else 503 saying which did not.
    For load balancers and monitoring: no login."""
    checks = {"database": _database_check(), "channel_layer": _channel_layer_check()}
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "version": protocol.SERVER_VERSION}
    return JsonResponse(body | checks, status=200 if healthy else 503)


def _failure(exc: Exception) -> dict:
    return {"ok": False, "error": f"{type(exc).__name__}: {str(exc).strip()[:200]}"}


def _database_check() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return _failure(exc)
    return {"ok": True, "engine": connection.vendor}


def _channel_layer_check() -> dict:
    if not settings.REDIS_URL:
        return {"ok": True, "backend": "in-memory"}
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return _failure(exc)
    return {"ok": True, "backend": "redis"}
