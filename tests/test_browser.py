"""The screens in a real browser (Debian's Chromium driven by Playwright) against a live
server with a real printer socket connected. Screenshots land in tests/artifacts/."""

import json
import os
import shutil
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import websockets.sync.client
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from orders.models import Category, Order
from orders.services import order_confirm, order_create
from printing import protocol
from printing.models import Alert, PrinterConfig, PrinterConnection, PrintJob
from printing.services import print_job_create_test
from tests.conftest import MILK_TEA
from tests.services import unavailable
from tests.support import ROOT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"
PASSWORD = "counter-staff-pass-1"

if not os.path.exists(CHROMIUM):
    unavailable("Chromium is not installed (apt-get install chromium)", module=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402


class SocketPrinter:
    """A printer client on a real socket, in a thread: answers pings, completes its jobs."""

    def __init__(self, url: str, name: str, **info: str) -> None:
        self.url, self.name = url, name
        self.info = {"model": "TM-T88V", **info}
        self.received: list[dict] = []
        self.bound = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "SocketPrinter":
        self._thread.start()
        assert self.bound.wait(10), "the printer socket was not bound"
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        with websockets.sync.client.connect(self.url, open_timeout=10) as ws:
            ws.send(json.dumps(protocol.printer_info(name=self.name, **self.info)))
            while not self._stop.is_set():
                try:
                    message = json.loads(ws.recv(timeout=0.2))
                except TimeoutError:
                    continue
                if message["type"] == "printer_info_ack":
                    self.bound.set()
                elif message["type"] == "ping":
                    ws.send(json.dumps(protocol.pong()))
                elif message["type"] in ("new_order", "print_command"):
                    job = message.get("order") or message["data"]
                    self.received.append(job)
                    ws.send(
                        json.dumps(protocol.print_status(job_id=job["job_id"], status="completed"))
                    )

    def wait_for(self, predicate, within: float = 10) -> dict:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for job in list(self.received):
                if predicate(job):
                    return job
            time.sleep(0.05)
        raise AssertionError(f"no such job received; got {self.received}")


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop running in this thread while the browser is
    # open; the ORM calls the tests (and the database flush) make are still plain sync calls.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def staff(transactional_db):
    return get_user_model().objects.create_user(
        "cashier", password=PASSWORD, is_staff=True, is_superuser=True
    )


def log_in(page, server, next_url: str) -> None:
    page.goto(f"{server.http_url}/admin/login/?next={next_url}")
    page.fill("#id_username", "cashier")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_url}")
    # Set once; a full reload would lose it.
    page.evaluate("window.__noReload = true")


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_confirming_an_order_on_the_board_prints_it_and_shows_it_printed(print_server, page, staff):
    PrinterConfig.objects.create(name="厨房打印机")
    order = order_create(items=[MILK_TEA], customer_phone="13800138000", note="少冰")
    server = print_server()
    printer = SocketPrinter(server.ws_url, "厨房打印机").start()
    log_in(page, server, "/backoffice/")

    card = page.locator(f".order[data-order='{order.pk}']")
    expect(card).to_contain_text("珍珠奶茶")
    expect(card).to_contain_text("¥25.00")
    # A double click confirms once.
    card.locator("[data-action=confirm]").dblclick()
    job = printer.wait_for(lambda job: job["order_id"] == order.pk)
    assert f"订单号: #{order.pk}" in job["content"]
    done = page.locator(f".order[data-order='{order.pk}'] [data-status=completed]")
    expect(done).to_be_visible(timeout=10_000)
    expect(done).to_contain_text("厨房打印机")
    assert page.evaluate("window.__noReload") is True
    assert PrintJob.objects.filter(order=order).count() == 1
    shoot(page, "board.png")

    # New orders appear without a reload.
    later = order_create(items=[MILK_TEA])
    expect(page.locator(f".order[data-order='{later.pk}']")).to_be_visible(timeout=5_000)
    printer.stop()


def test_the_board_shows_pickup_numbers_and_reprints_on_the_printers_chosen(
    print_server, page, staff
):
    milk_tea = Category.objects.create(name="奶茶", sort_order=1)
    Category.objects.create(name="小食", sort_order=3)
    counter = PrinterConfig.objects.create(name="收银台打印机")
    station = PrinterConfig.objects.create(name="制作台打印机", role="station")
    station.categories.set([milk_tea])
    order = order_create(
        items=[{**MILK_TEA, "category": milk_tea, "toppings": "珍珠, 椰果"}],
        order_type="delivery",
        delivery_platform="美团",
        platform_order_no="12",
        confirm=True,
    )
    server = print_server()
    log_in(page, server, "/backoffice/")

    card = page.locator(f".order[data-order='{order.pk}']")
    expect(card.locator("[data-testid=pickup-number]")).to_have_text("001", timeout=10_000)
    expect(card).to_contain_text("外卖 美团 #12")
    expect(card).to_contain_text("+珍珠 +椰果")
    expect(card.locator(".category")).to_have_text("奶茶")

    card.locator("[data-action=reprint]").click()
    chooser = card.locator(".reprint-chooser")
    receipt_box = chooser.locator(f"input[value='{counter.pk}']")
    station_box = chooser.locator(f"input[value='{station.pk}']")
    expect(receipt_box).to_be_checked()
    expect(station_box).not_to_be_checked()
    # The chooser survives the board's redraws while staff choose.
    receipt_box.uncheck()
    station_box.check()
    drawn = page.text_content("#live-state")
    expect(page.locator("#live-state")).not_to_have_text(drawn, timeout=5_000)
    expect(station_box).to_be_checked()
    expect(receipt_box).not_to_be_checked()
    chooser.locator("[data-action=reprint-send]").click()
    expect(card.locator(".reprint-chooser")).to_have_count(0)
    expect(card.locator(".receipts")).to_contain_text("重印", timeout=10_000)
    reprints = PrintJob.objects.filter(order=order, is_reprint=True)
    assert [(job.printer_id, job.job_type) for job in reprints] == [(station.pk, "kitchen")]
    shoot(page, "board-reprint.png")

    # The form makes a takeaway order in a category.
    form = page.locator("#new-order")
    form.locator("select[name=category]").select_option(label="小食")
    form.locator("input[name=name]").fill("鸡米花")
    form.locator("select[name=order_type]").select_option("takeaway")
    expect(form.locator("input[name=delivery_platform]")).to_be_hidden()
    form.locator("button[type=submit]").click()
    expect(page.locator("#form-result")).to_contain_text("已添加订单 #", timeout=5_000)
    added = page.locator(".order", has_text="鸡米花")
    expect(added).to_contain_text("外带", timeout=5_000)
    expect(added.locator(".category")).to_have_text("小食")


def test_the_dashboard_shows_sockets_and_jobs_as_they_change(print_server, page, staff):
    printer_row = PrinterConfig.objects.create(name="厨房打印机")
    server = print_server()
    log_in(page, server, "/admin/print/")
    expect(page.locator("#service-state")).to_contain_text("运行中", timeout=10_000)
    connections = page.locator("#connections-table tbody")
    expect(connections).to_contain_text("没有打印机连接")

    printer = SocketPrinter(server.ws_url, "厨房打印机").start()
    expect(connections).to_contain_text("TM-T88V", timeout=5_000)
    expect(page.locator("#printers-online")).to_have_text("1", timeout=5_000)

    job = print_job_create_test(printer=printer_row)
    printer.wait_for(lambda received: received["job_id"] == job.pk)
    row = page.locator(f"#jobs-table tr[data-job='{job.pk}'] [data-status=completed]")
    expect(row).to_be_visible(timeout=5_000)
    shoot(page, "dashboard.png")

    printer.stop()
    expect(connections).to_contain_text("没有打印机连接", timeout=10_000)
    assert page.evaluate("window.__noReload") is True


def test_retry_and_cancel_from_the_job_admin(print_server, page, staff):
    kitchen = PrinterConfig.objects.create(name="厨房打印机")
    failed = print_job_create_test(printer=kitchen)
    PrintJob.objects.filter(pk=failed.pk).update(status="failed", error_message="缺纸")
    waiting = print_job_create_test(printer=kitchen)
    server = print_server()
    log_in(page, server, "/admin/printing/printjob/")

    def run_action(job, action: str) -> None:
        page.check(f"input.action-select[value='{job.pk}']")
        page.select_option("select[name=action]", action)
        page.click("button[name=index]")
        expect(page.locator(".messagelist")).to_be_visible()

    run_action(waiting, "cancel_jobs")
    assert PrintJob.objects.get(pk=waiting.pk).status == "cancelled"
    run_action(failed, "retry_jobs")
    assert PrintJob.objects.get(pk=failed.pk).status == "pending"

    # The retried job goes out to the printer as soon as it connects.
    printer = SocketPrinter(server.ws_url, "厨房打印机").start()
    printer.wait_for(lambda job: job["job_id"] == failed.pk)
    page.goto(f"{server.http_url}/admin/printing/printjob/{failed.pk}/change/")
    expect(page.locator(".receipt-paper")).to_contain_text("打印测试")
    expect(page.locator("body")).to_contain_text("retried")
    shoot(page, "job.png")
    printer.stop()


def test_the_test_client_is_a_printer_in_the_browser(print_server, page, staff):
    PrinterConfig.objects.create(name="收银台打印机")
    server = print_server()
    log_in(page, server, "/admin/print/test-client/")
    page.select_option("#tc-printer", label="收银台打印机")
    page.click("#tc-connect")
    expect(page.locator("#tc-state")).to_have_text("已连接", timeout=10_000)

    page.click("#tc-test-print")
    expect(page.locator("#tc-log")).to_contain_text("print_command", timeout=10_000)
    expect(page.locator("#tc-receipt")).to_contain_text("打印测试")
    job_id = int(page.input_value("#tc-job"))
    page.click("#tc-completed")
    expect(page.locator("#tc-job-status [data-status=completed]")).to_be_visible(timeout=10_000)
    assert PrintJob.objects.get(pk=job_id).status == "completed"
    shoot(page, "test-client.png")


def test_the_printer_form_draws_a_sample_of_its_settings_before_saving(print_server, page, staff):
    printer = PrinterConfig.objects.create(name="奶茶站", role="station", paper_width=58)
    server = print_server()
    log_in(page, server, f"/admin/printing/printerconfig/{printer.pk}/change/")
    result = page.locator("#sample-preview-result")
    width = "(img) => img.complete ? img.naturalWidth : 0"

    # A saved printer's page shows its saved settings at once: 58 mm is 384 dots.
    expect(result.locator("img.paper-preview")).to_be_visible(timeout=10_000)
    assert result.locator("img").evaluate(width) == 384
    # Typed, not saved: the button draws the form as it stands.
    page.select_option("select[name=paper_width]", "80")
    page.get_by_role("button", name="预览样张").click()
    page.wait_for_function(
        "document.querySelector('#sample-preview-result img')?.naturalWidth === 576"
    )
    page.select_option("select[name=role]", "label")
    page.fill("input[name=label_width_mm]", "300")
    page.get_by_role("button", name="预览样张").click()
    # The refusal as text, under the field's own label.
    expect(result.locator(".paper-preview-error")).to_contain_text(
        "标签宽度（毫米）: ", timeout=10_000
    )
    expect(result.locator("img")).to_have_count(0)
    shoot(page, "printer-sample.png")
    assert PrinterConfig.objects.get(pk=printer.pk).paper_width == 58


# Stands in for the speakers: every tone the page starts and every line it speaks is recorded.
# The context stays suspended until the page has had a click, as a browser's does.
SPEAKERS = """
window.__beeps = [];
window.__spoken = [];
class RecordingAudioContext {
  constructor() { this.state = "suspended"; this.currentTime = 0; this.destination = {}; }
  resume() {
    if (navigator.userActivation.hasBeenActive && this.state !== "running") {
      this.state = "running";
      if (this.onstatechange) this.onstatechange();
    }
    return Promise.resolve();
  }
  createGain() { return { gain: { value: 1 }, connect() {} }; }
  createOscillator() {
    const tone = { frequency: { value: 440 }, connect() {}, stop() {} };
    tone.start = () => window.__beeps.push(tone.frequency.value);
    return tone;
  }
}
window.AudioContext = window.webkitAudioContext = RecordingAudioContext;
Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
  speak: (utterance) => window.__spoken.push({ text: utterance.text, lang: utterance.lang }),
  cancel() {},
} });
"""

# Alert rows are made by the test; long thresholds keep the server's own evaluation from
# opening others (a waiting order, an offline printer) while it runs.
QUIET_ALERTS = {
    "PRINT_ALERT_AFTER": "3600",
    "PRINT_ALERT_OFFLINE_AFTER": "3600",
    "ORDER_ALERT_AFTER": "3600",
}


def failed_job_alert(printer: PrinterConfig, message: str) -> Alert:
    """A confirmed order whose job gave up, and its alert, committed together: the condition
    holds for as long as the alert is open."""
    with transaction.atomic():
        order = order_create(items=[MILK_TEA], confirm=True)
        job = PrintJob.objects.get(order=order, printer=printer)
        PrintJob.objects.filter(pk=job.pk).update(status="failed", error_message="缺纸")
        return Alert.objects.create(
            kind="job_failed",
            printer=printer,
            job=job,
            order=order,
            subject=f"printer:{printer.pk}",
            job_ids=[job.pk],
            message=message.format(pickup=order.pickup_number),
        )


def recorded(page) -> tuple[int, list[dict]]:
    beeps, spoken = page.evaluate("[window.__beeps.length, window.__spoken]")
    return beeps, spoken


def next_alert_polls(page, count: int = 2):
    """Waits for the next `count` answers of /api/alerts: once the second has come, the page
    has drawn the first."""
    for _ in range(count):
        with page.expect_response(lambda r: urlsplit(r.url).path == "/api/alerts"):
            pass


def test_an_alert_rings_and_speaks_until_acknowledged_and_a_new_order_rings_once(
    print_server, page, staff
):
    kitchen = PrinterConfig.objects.create(name="厨房打印机")
    server = print_server(**QUIET_ALERTS)
    page.clock.install()
    page.add_init_script(SPEAKERS)
    log_in(page, server, "/backoffice/")

    # Sound needs a click once; the page remembers it for the next visit.
    enable = page.get_by_role("button", name="启用声音")
    enable.click()
    expect(enable).to_be_hidden()
    assert page.evaluate("localStorage.getItem('printAlerts.sound')") == "on"

    # The server's own wording: its heartbeat keeps the alert's message up to date.
    alert = failed_job_alert(kitchen, "厨房打印机：{pickup} 打印失败")
    banner = page.locator(f"[data-testid=alert][data-alert='{alert.pk}']")
    expect(banner).to_be_visible(timeout=2_000)
    expect(banner).to_contain_text(alert.message)
    expect(banner).to_have_class("alert-banner severity-printing")
    page.wait_for_function("window.__spoken.length === 1")
    assert recorded(page) == (1, [{"text": alert.message, "lang": "zh-CN"}])
    shoot(page, "board-alert.png")

    # Unacknowledged, it rings and speaks again 30 s later.
    page.clock.fast_forward("00:31")
    page.wait_for_function("window.__spoken.length === 2")
    assert recorded(page)[0] == 2

    banner.get_by_role("button", name="知道了").click()
    expect(banner).to_have_count(0)
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    assert alert.acknowledged_by == f"staff:{staff.username}"
    # Acknowledged, still open: silent from now on.
    page.clock.fast_forward("00:31")
    next_alert_polls(page)
    page.clock.fast_forward("00:31")
    next_alert_polls(page)
    expect(banner).to_have_count(0)
    assert recorded(page)[0] == 2
    alert.refresh_from_db()
    assert alert.resolved_at is None

    # A new order waiting for confirmation rings once and says so.
    order = order_create(items=[MILK_TEA])
    expect(page.locator(f".order[data-order='{order.pk}']")).to_be_visible(timeout=5_000)
    page.wait_for_function("window.__spoken.length === 3")
    beeps, spoken = recorded(page)
    assert (beeps, spoken[-1]) == (3, {"text": "您有新的订单", "lang": "zh-CN"})
    page.clock.fast_forward("00:31")
    next_alert_polls(page)
    assert recorded(page)[0] == 3

    # An order alert is amber; confirmed, the server resolves it and its banner goes. The
    # order is made old enough for the server's own check in the same transaction.
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=2))
        waiting = Alert.objects.create(
            kind="order_waiting",
            order=order,
            subject=f"order:{order.pk}",
            message=f"订单 #{order.pk} 等待确认",
        )
    amber = page.locator(f"[data-testid=alert][data-alert='{waiting.pk}']")
    expect(amber).to_have_class("alert-banner severity-order", timeout=2_000)
    order_confirm(order_id=order.pk)
    expect(amber).to_have_count(0, timeout=5_000)
    assert Alert.objects.get(pk=waiting.pk).resolved_at is not None

    # Muted: neither sound nor voice. Both choices outlive a reload: sound, once enabled,
    # comes back with the first click anywhere.
    page.get_by_role("button", name="静音").click()
    page.reload()
    expect(page.get_by_role("button", name="取消静音")).to_be_visible()
    expect(enable).to_be_visible()
    page.locator("h1").click()
    expect(enable).to_be_hidden()
    later = order_create(items=[MILK_TEA])
    expect(page.locator(f".order[data-order='{later.pk}']")).to_be_visible(timeout=5_000)
    next_alert_polls(page)
    assert recorded(page) == (0, [])


# Markup in names, notes and what a printer says about itself is text on every screen: it
# never becomes a tag and never runs.

# Breaks out of text, of either attribute quote, and of a <script> block.
TAG = "<img src=x onerror=window.__xss=1>"
PAYLOAD = f"\"'>{TAG}"
SCRIPT = "</script><script>window.__xss=2</script>"

PRINTER = f"厨房{PAYLOAD}"
ITEM = f"奶茶{PAYLOAD}"
NOTE = f"少冰{PAYLOAD}{SCRIPT}"
MODEL = f"TM{PAYLOAD}"
ERROR = f"缺纸{PAYLOAD}"
CATEGORY = f"小食{PAYLOAD}"
TOPPINGS = f"珍珠{PAYLOAD}"
PLATFORM = f"美团{PAYLOAD}"


class Watch:
    """Fails a screen on which any of the markup came alive: its image was requested, its
    handler ran, or a dialog opened."""

    def __init__(self, page) -> None:
        self.page = page
        self.injected: list[str] = []
        page.on("request", self._request)
        page.on("dialog", lambda dialog: self.injected.append(f"dialog {dialog.message}"))

    def _request(self, request) -> None:
        if urlsplit(request.url).path.endswith("/x"):
            self.injected.append(request.url)

    def assert_inert(self, url: str) -> None:
        # An image of our own, requested and failed after everything the screen rendered:
        # by then an injected one would have been requested (and its handler run).
        ran = self.page.evaluate(
            """() => new Promise((done) => {
                const probe = new Image();
                probe.onload = probe.onerror = () => done(window.__xss ?? null);
                probe.src = "probe-" + Date.now();
            })"""
        )
        assert (ran, self.injected) == (None, []), url


def test_markup_in_names_notes_and_printer_info_is_text_on_every_screen(print_server, page, staff):
    kitchen = PrinterConfig.objects.create(name=PRINTER)
    category = Category.objects.create(name=CATEGORY)
    waiting = order_create(
        items=[{**MILK_TEA, "name": ITEM, "category": category, "toppings": TOPPINGS}],
        note=NOTE,
        order_type="delivery",
        delivery_platform=PLATFORM,
        platform_order_no=PAYLOAD,
    )
    server = print_server(**QUIET_ALERTS)
    printer = SocketPrinter(server.ws_url, PRINTER, model=MODEL, firmware=PAYLOAD).start()
    printed = order_create(items=[{**MILK_TEA, "name": ITEM}], note=NOTE, confirm=True)
    job = printer.wait_for(lambda received: received["order_id"] == printed.pk)
    assert TAG in job["content"] or "<img" in job["content"]
    # The server's own wording (its heartbeat keeps it): the printer's name carries the markup.
    alert_message = f"{PRINTER}：{printed.pickup_number} 打印失败"
    with transaction.atomic():
        PrintJob.objects.filter(pk=job["job_id"]).update(status="failed", error_message=ERROR)
        Alert.objects.create(
            kind="job_failed",
            printer=kitchen,
            job_id=job["job_id"],
            order=printed,
            subject=f"printer:{kitchen.pk}",
            job_ids=[job["job_id"]],
            message=alert_message,
        )
    connection = PrinterConnection.objects.get(printer=kitchen, closed_at=None)
    watch = Watch(page)

    log_in(page, server, "/backoffice/")
    expect(page.locator("#alert-bar")).to_contain_text(alert_message, timeout=10_000)
    board = page.locator("#board")
    for text in (ITEM, NOTE, PRINTER):
        expect(board).to_contain_text(text, timeout=10_000)
    failed = page.locator(f".order[data-order='{printed.pk}'] [data-status=failed]")
    expect(failed).to_have_attribute("title", ERROR, timeout=10_000)
    waiting_card = page.locator(f".order[data-order='{waiting.pk}']")
    expect(waiting_card).to_contain_text(NOTE)
    for text in (CATEGORY, f"+{TOPPINGS}", f"{PLATFORM} #{PAYLOAD}"):
        expect(waiting_card).to_contain_text(text)
    # The form's category list and the reprint chooser's printers.
    expect(page.locator("select[name=category] option", has_text=CATEGORY)).to_have_count(1)
    page.locator(f".order[data-order='{printed.pk}'] [data-action=reprint]").click()
    expect(page.locator(".reprint-chooser")).to_contain_text(PRINTER)
    watch.assert_inert("/backoffice/")

    page.goto(f"{server.http_url}/admin/print/")
    expect(page.locator("#alert-bar")).to_contain_text(alert_message, timeout=10_000)
    for table, text in (("printers", PRINTER), ("connections", MODEL), ("jobs", ERROR)):
        expect(page.locator(f"#{table}-table")).to_contain_text(text, timeout=10_000)
    watch.assert_inert("/admin/print/")

    page.goto(f"{server.http_url}/admin/print/test-client/")
    page.select_option("#tc-printer", label=PRINTER)
    page.click("#tc-connect")
    expect(page.locator("#tc-state")).to_have_text("已连接", timeout=10_000)
    page.click("#tc-test-print")
    expect(page.locator("#tc-log")).to_contain_text("print_command", timeout=10_000)
    expect(page.locator("#tc-log")).to_contain_text(TAG)
    expect(page.locator("#tc-receipt")).to_contain_text("<img")
    watch.assert_inert("/admin/print/test-client/")

    admin_pages = {
        "/admin/printing/printerconfig/": [PRINTER],
        f"/admin/printing/printerconfig/{kitchen.pk}/change/": [MODEL, PAYLOAD],
        "/admin/printing/printerconnection/": [MODEL],
        f"/admin/printing/printerconnection/{connection.pk}/change/": [MODEL],
        "/admin/printing/printjob/": [PRINTER],
        f"/admin/printing/printjob/{job['job_id']}/change/": [ERROR, "<img"],
        "/admin/orders/order/": [],
        f"/admin/orders/order/{waiting.pk}/change/": [],
        "/admin/orders/category/": [CATEGORY],
        f"/admin/orders/category/{category.pk}/change/": [],
    }
    for path, texts in admin_pages.items():
        page.goto(f"{server.http_url}{path}")
        for text in texts:
            expect(page.locator("#content")).to_contain_text(text)
        watch.assert_inert(path)
    # Form fields hold the markup as their value.
    expect(page.locator("input[name=name]")).to_have_value(CATEGORY)
    page.goto(f"{server.http_url}/admin/orders/order/{waiting.pk}/change/")
    expect(page.locator("textarea[name=note]")).to_have_value(NOTE)
    expect(page.locator("input[name=delivery_platform]")).to_have_value(PLATFORM)
    expect(page.locator("input[name='items-0-toppings']")).to_have_value(TOPPINGS)
    printer.stop()
