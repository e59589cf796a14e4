"""Staff tickets for the WebSocket test tool: single-use, one minute, bound to the staff member
who asked, and the socket lasts only while that member may use the test client."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import signing
from django.test import Client
from django.utils import timezone

from printing import protocol
from printing.models import PrinterConfig, PrinterConnection, SocketTicket
from printing.routing import websocket_urlpatterns
from printing.services import printer_ticket_issue
from tests.helpers import from_address

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("dispatcher")]

# A foreign address: a ticket, not the trusted network, is what lets these sockets in.
application = from_address(URLRouter(websocket_urlpatterns), "203.0.113.9")


@database_sync_to_async
def staff_member(username: str = "tester"):
    """Staff with the test client permission."""
    user = get_user_model().objects.create_user(username, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="use_test_client"))
    return user


@database_sync_to_async
def kitchen() -> PrinterConfig:
    return PrinterConfig.objects.create(name="厨房打印机")


async def open_with(ticket: str) -> tuple[WebsocketCommunicator, dict]:
    """Connect with `?ticket=`: the socket and the first thing the server says."""
    client = WebsocketCommunicator(application, f"/ws/print/?ticket={ticket}")
    connected, _ = await client.connect(timeout=5)
    assert connected
    return client, await client.receive_output(timeout=5)


def refusal(output: dict) -> tuple[int, str]:
    assert output["type"] == "websocket.close", output
    return output["code"], output["reason"]


async def test_a_ticket_from_the_ticket_view_opens_one_socket_as_its_printer():
    printer, user = await kitchen(), await staff_member()

    def ask() -> str:
        browser = Client()
        browser.force_login(user)
        response = browser.post("/admin/print/ticket", {"printer": printer.pk})
        assert response.status_code == 200
        return response.json()["ticket"]

    ticket = await database_sync_to_async(ask)()
    client, first = await open_with(ticket)
    assert first["type"] == "websocket.send"
    assert '"welcome"' in first["text"]
    # The socket is the ticket's printer's, whatever it says it is.
    await client.send_json_to(protocol.printer_info(name="收银台打印机"))
    ack = await client.receive_json_from(timeout=5)
    assert ack["printer"]["id"] == printer.pk
    connection = await database_sync_to_async(PrinterConnection.objects.get)()
    assert (connection.printer_id, connection.authenticated_by) == (printer.pk, "ticket")
    await client.disconnect()


async def test_a_ticket_is_single_use():
    printer, user = await kitchen(), await staff_member()
    ticket = await database_sync_to_async(printer_ticket_issue)(printer=printer, user=user)
    first, _ = await open_with(ticket)
    _, output = await open_with(ticket)
    assert refusal(output) == (4401, "invalid or expired ticket")
    await first.disconnect()


async def test_a_ticket_forged_with_the_secret_key_is_refused():
    # Before tickets were stored, anyone holding DJANGO_SECRET_KEY could sign one.
    printer = await kitchen()
    forged = signing.dumps({"printer": printer.pk}, salt="printing.socket-ticket")
    _, output = await open_with(forged)
    assert refusal(output) == (4401, "invalid or expired ticket")
    assert not await database_sync_to_async(PrinterConnection.objects.exists)()


async def test_an_expired_ticket_is_refused():
    printer, user = await kitchen(), await staff_member()
    ticket = await database_sync_to_async(printer_ticket_issue)(printer=printer, user=user)
    row = await database_sync_to_async(SocketTicket.objects.get)()
    assert timedelta(seconds=59) < row.expires_at - timezone.now() <= timedelta(seconds=60)
    await database_sync_to_async(SocketTicket.objects.update)(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    _, output = await open_with(ticket)
    assert refusal(output) == (4401, "invalid or expired ticket")


async def test_a_ticket_is_refused_once_its_holder_lost_the_permission():
    printer, user = await kitchen(), await staff_member()
    ticket = await database_sync_to_async(printer_ticket_issue)(printer=printer, user=user)
    await database_sync_to_async(user.user_permissions.clear)()
    _, output = await open_with(ticket)
    assert refusal(output) == (4401, "invalid or expired ticket")


async def closed_within_a_heartbeat(client: WebsocketCommunicator) -> tuple[int, str]:
    while True:
        output = await client.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return output["code"], output["reason"]


@pytest.mark.parametrize("change", ["deactivated", "permission_removed", "no_longer_staff"])
async def test_a_ticket_socket_closes_when_its_holder_may_no_longer_use_the_test_client(
    settings, change
):
    settings.PRINT_HEARTBEAT_INTERVAL = 0.5
    printer, user, other = await kitchen(), await staff_member(), await staff_member("other")
    mine = await database_sync_to_async(printer_ticket_issue)(printer=printer, user=user)
    theirs = await database_sync_to_async(printer_ticket_issue)(printer=printer, user=other)
    client, _ = await open_with(mine)
    untouched, _ = await open_with(theirs)

    def revoke() -> None:
        if change == "permission_removed":
            user.user_permissions.clear()
        else:
            get_user_model().objects.filter(pk=user.pk).update(
                **{"is_active" if change == "deactivated" else "is_staff": False}
            )

    await database_sync_to_async(revoke)()
    assert await closed_within_a_heartbeat(client) == (4403, "ticket holder no longer allowed")
    # The other staff member's socket stays.
    assert await untouched.receive_nothing(timeout=1.5)
    await untouched.disconnect()
