import json

import pytest
from django.test import Client

from printing.models import PrinterConnection, PrintJob, PrintJobEvent, ServerProcess

pytestmark = pytest.mark.django_db

KEY = "k" * 32


@pytest.fixture(autouse=True)
def api_key(settings):
    settings.PRINT_API_KEYS = [KEY]


def with_key(client: Client, method: str, url: str, body=None, key: str = KEY):
    send = getattr(client, method)
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    if body is not None:
        kwargs |= {"data": body if isinstance(body, str) else json.dumps(body)}
        kwargs |= {"content_type": "application/json"}
    return send(url, **kwargs)


@pytest.mark.parametrize("url", ["/api/printers/status", "/api/jobs"])
def test_strangers_get_401(client, url):
    response = client.get(url) if "status" in url else client.post(url)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert with_key(client, "get", "/api/printers/status", key="wrong").status_code == 401


def test_status_lists_every_printer_with_its_sockets_and_queue(client, make_printer, make_order):
    kitchen = make_printer("厨房打印机")
    make_printer("收银台打印机", auto_print_orders=False, backup_printer=kitchen)
    make_order(confirm=True)
    server = ServerProcess.objects.create(hostname="h", pid=1, version="1", channel_layer="x")
    PrinterConnection.objects.create(
        server=server,
        printer=kitchen,
        client_address="192.168.1.20:5000",
        reported_name="厨房打印机",
        reported_model="TM-T88V",
        printer_info={"name": "厨房打印机", "model": "TM-T88V", "paper": "ok"},
    )
    response = with_key(client, "get", "/api/printers/status")
    assert response.status_code == 200
    printers = {p["name"]: p for p in response.json()["printers"]}
    assert printers["厨房打印机"]["online"] is True
    assert printers["厨房打印机"]["pending_jobs"] == 1
    assert printers["厨房打印机"]["printer_info"]["paper"] == "ok"
    assert printers["厨房打印机"]["connections"][0]["address"] == "192.168.1.20:5000"
    assert printers["收银台打印机"]["online"] is False
    assert printers["收银台打印机"]["backup_printer"] == "厨房打印机"


def test_staff_sessions_may_read_the_status(admin_client):
    assert admin_client.get("/api/printers/status").status_code == 200


def test_an_integration_creates_a_job_for_one_printer(client, make_printer):
    printer = make_printer("厨房打印机")
    response = with_key(
        client, "post", "/api/jobs", {"printer": "厨房打印机", "content": "外卖单 #88", "copies": 2}
    )
    assert response.status_code == 201
    job = PrintJob.objects.get(pk=response.json()["job_id"])
    assert (job.printer, job.copies, job.job_type) == (printer, 2, "text")
    assert job.print_content == "外卖单 #88\n"
    assert PrintJobEvent.objects.get(job=job).actor == "api"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("not json", 400, "invalid_json"),
        ([1], 400, "invalid_json"),
        ({"printer": "厨房打印机"}, 400, "invalid_field"),
        ({"printer": "厨房打印机", "content": " "}, 400, "invalid_field"),
        ({"printer": "厨房打印机", "content": "x", "copies": 0}, 400, "invalid_field"),
        ({"printer": "厨房打印机", "content": "x", "priority": True}, 400, "invalid_field"),
        ({"printer": None, "content": "x"}, 400, "invalid_field"),
        ({"printer": "没有", "content": "x"}, 404, "unknown_printer"),
        ({"printer": "停用", "content": "x"}, 404, "unknown_printer"),
    ],
)
def test_bad_job_requests_are_refused_and_create_nothing(client, make_printer, body, status, code):
    make_printer("厨房打印机")
    make_printer("停用", is_active=False)
    response = with_key(client, "post", "/api/jobs", body)
    assert response.status_code == status
    assert response.json()["error"] == code
    assert not PrintJob.objects.exists()


def test_a_staff_session_still_needs_its_csrf_token(admin_user, make_printer):
    make_printer("厨房打印机")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    response = browser.post(
        "/api/jobs",
        data=json.dumps({"printer": "厨房打印机", "content": "x"}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not PrintJob.objects.exists()
