"""Web helpers both apps' views use: JSON errors, staff-only screens and JSON endpoints with
the model permissions they need, the actor name of a staff member, and the words the
screens' scripts show."""

from functools import wraps

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from printing.models import PrinterConfig, PrintJob


def error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": code, "message": message}, status=status)


def staff_json(*permissions: str):
    """Staff with these model permissions only; JSON endpoints answer 403 instead of
    redirecting to the login page."""

    def decorate(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not (request.user.is_authenticated and request.user.is_staff):
                return error("forbidden", "staff login required", 403)
            if not request.user.has_perms(permissions):
                return error("forbidden", f"permission required: {', '.join(permissions)}", 403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def staff_page(*permissions: str):
    """A staff screen: the login page for anyone else, 403 for staff without these model
    permissions."""

    def decorate(view):
        @staff_member_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.has_perms(permissions):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def staff_actor(user) -> str:
    """Who did it, in job events and log lines."""
    return f"staff:{user.get_username()}"


def ui_labels() -> dict:
    """Every word the dashboard, test client and order board scripts show, translated."""
    return {
        "locale": "en" if get_language() == "en" else "zh-CN",
        "status": {**dict(PrintJob.Status.choices), **dict(PrinterConfig.NetworkStatus.choices)},
        "type": dict(PrintJob.JobType.choices),
        "connection": dict(PrinterConfig.ConnectionType.choices),
        "receipt": {
            "pending": _("waiting"),
            "sent": _("sent"),
            "printing": _("printing"),
            "completed": _("printed"),
            "failed": _("failed"),
            "cancelled": _("cancelled"),
            "expired": _("expired"),
        },
        "auth": {"token": _("token"), "ticket": _("staff ticket"), "network": _("trusted network")},
        "live": _("Live, updated"),
        "disconnected": _("disconnected"),
        "connecting": _("connecting…"),
        "connected": _("connected"),
        "closed": _("closed"),
        "up": _("running"),
        "down": _("not running"),
        "since": _("since"),
        "sockets": _("sockets"),
        "processes": _("processes"),
        "online": _("online"),
        "offline": _("offline"),
        "disabled": _("disabled"),
        "none": _("nothing yet"),
        "unbound_hint": _("matches no configured printer: receives only jobs for every printer"),
        "no_sockets": _("no printer is connected"),
        "every_printer": _("every printer"),
        "queued": _("test prints queued"),
        "retried": _("jobs retried"),
        "confirm": _("Confirm"),
        "cancel": _("Cancel"),
        "reprint": _("Reprint"),
        "reprint_to": _("Reprint on:"),
        "no_printers": _("No active printer to reprint on."),
        "reprint_cup": _("Cup label no. (empty: all cups)"),
        "close": _("Close"),
        "note": _("Note"),
        "no_receipts": _("no receipts"),
        "no_pending": _("No orders waiting."),
        "order_added": _("Order added"),
        "printed_ok": _("printed"),
        "printed_in_browser": _("printed in the browser"),
        "failed_from_browser": _("failed (reported from the test client)"),
        "preview": _("Preview"),
        "preview_failed": _("The preview could not be drawn."),
        "open_full_size": _("Open full size"),
        # printing/alerts.js: the alert banners and their sound on the board and dashboard.
        "alerts": {
            "region": _("Open alerts"),
            "acknowledge": _("Got it"),
            "ack_failed": _("The alert could not be acknowledged"),
            "enable_sound": _("Enable sound"),
            "mute": _("Mute alerts"),
            "unmute": _("Unmute alerts"),
            "speech": _("Speak alerts aloud"),
            "new_order": _("You have a new order"),
            "new_order_title": _("New order"),
            "printing_title": _("A printer needs attention"),
            "order_title": _("An order needs attention"),
        },
    }
