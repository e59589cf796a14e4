"""The JSON API: printer status for dashboards and monitoring, and jobs from integrations.

Staff sessions may call it from the browser; other servers send one of PRINT_API_KEYS as
`Authorization: Bearer KEY`.
"""

import json
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from printing import access, services
from printing.models import PrinterConfig, PrintJob


def error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": code, "message": message}, status=status)


def api_view(view):
    """Staff session (with its CSRF protection) or an API key; anything else gets 401."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and access.api_key_valid(
            key.strip(), settings.PRINT_API_KEYS
        ):
            request.api_actor = "api"
        elif request.user.is_authenticated and request.user.is_staff:
            rejected = CsrfViewMiddleware(lambda r: None).process_view(request, view, args, {})
            if rejected is not None:
                return error("csrf", "CSRF check failed", 403)
            request.api_actor = f"staff:{request.user.get_username()}"
        else:
            return error("unauthorized", "staff login or API key required", 401)
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@api_view
def printers_status(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"printers": services.printers_status()})


@require_POST
@api_view
def job_create(request: HttpRequest) -> JsonResponse:
    """POST {"printer": name or id, "content": text, "copies": 1, "priority": 5}."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return error("invalid_json", "the body is not JSON", 400)
    if not isinstance(body, dict):
        return error("invalid_json", "the body must be a JSON object", 400)
    content, copies, priority = body.get("content"), body.get("copies", 1), body.get("priority", 5)
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
