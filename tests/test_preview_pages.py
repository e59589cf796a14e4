"""Where staff see the paper: the job's admin page, the dashboard's recent jobs, the printer's
form (a sample before saving), the ticket-text form (live) and the WebSocket test tool. The
pages carry the hooks their scripts use; the tests follow the hooks to the pictures."""

import io
import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from PIL import Image

from orders.models import ShopProfile
from printing.models import PrinterConfig, PrintJob
from printing.services import print_job_create_test

pytestmark = pytest.mark.django_db

SAMPLE_URL = "/admin/print/printers/sample-preview.png"
TICKET_TEXT_URL = "/admin/print/ticket-text/preview.png"


@pytest.fixture
def staff(admin_user) -> Client:
    browser = Client()
    browser.force_login(admin_user)
    return browser


def page(browser: Client, url: str) -> str:
    response = browser.get(url)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def attribute(html: str, element_id: str, name: str) -> str:
    """The value of attribute `name` on the element with this id, unescaped."""
    tag = re.search(rf'<[a-z]+[^>]*\bid="{element_id}"[^>]*>', html, re.S)
    assert tag, f"no element #{element_id}"
    value = re.search(rf'\b{name}="([^"]*)"', tag.group(0))
    assert value, f"#{element_id} has no {name}"
    return unescape(value.group(1))


def picture(response) -> Image.Image:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def scripts(html: str) -> list[str]:
    """Our scripts a page loads (not the admin's), each found by the static files finders."""
    names = re.findall(r'<script src="/static/(printing/[^"]+)"', html)
    for name in names:
        assert finders.find(name), f"{name} is not a static file"
    return names


def test_the_job_admin_page_shows_the_jobs_paper_lazily_and_opens_it_full_size(staff):
    printer = PrinterConfig.objects.create(name="收银台", paper_width=58)
    job = print_job_create_test(printer=printer)
    html = page(staff, reverse("admin:printing_printjob_change", args=[job.pk]))
    url = f"/admin/print/jobs/{job.pk}/preview.png"
    assert f'<img src="{url}" loading="lazy"' in html
    assert f'<a href="{url}" target="_blank" rel="noopener"' in html
    assert "纸面预览" in html  # the field's label, in Chinese
    assert "printing/preview.css" in html
    assert picture(staff.get(url)).width == 384


def test_the_dashboard_links_each_recent_job_to_its_paper(staff):
    receipt = PrinterConfig.objects.create(name="收银台", paper_width=80)
    station = PrinterConfig.objects.create(name="奶茶站", paper_width=58)
    jobs = [print_job_create_test(printer=receipt), print_job_create_test(printer=station)]
    html = page(staff, reverse("printing:dashboard"))
    template = attribute(html, "print-dashboard", "data-preview-url")
    assert template == "/admin/print/jobs/0/preview.png"
    # The preview script is loaded after the shared helpers and before the dashboard's own.
    loaded = scripts(html)
    order = [loaded.index(name) for name in ("printing/common.js", "printing/preview.js")]
    assert order == sorted(order)
    assert loaded[-1] == "printing/dashboard.js"
    assert "<th>预览</th>" in html
    data = staff.get(reverse("printing:dashboard_data")).json()
    rows = {row["id"]: row for row in data["recent_jobs"]}
    assert set(rows) == {job.pk for job in jobs}
    # What the script does with a row's id when its link is clicked.
    widths = {job_id: picture(staff.get(template.replace("/0/", f"/{job_id}/"))).width
              for job_id in rows}  # fmt: skip
    assert widths == {jobs[0].pk: 576, jobs[1].pk: 384}
    assert '"preview": "\\u9884\\u89c8"' in html  # 预览, the link's word in the script's labels


def form_as_sent(response) -> dict:
    """The admin form's fields as the browser would send them (FormData of the form)."""
    form = response.context["adminform"].form
    sent = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        if value is True:
            value = "on"
        sent[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return sent


def test_a_saved_printers_page_previews_its_settings_and_has_the_sample_button(staff):
    printer = PrinterConfig.objects.create(name="奶茶站", role="station", paper_width=58)
    response = staff.get(reverse("admin:printing_printerconfig_change", args=[printer.pk]))
    html = response.content.decode()
    assert attribute(html, "sample-preview", "data-url") == SAMPLE_URL
    assert attribute(html, "sample-preview", "data-on-load") == "1"
    assert ">预览样张</button>" in html
    assert 'id="sample-preview-result"' in html
    assert scripts(html)[-2:] == ["printing/preview.js", "printing/printer_sample.js"]
    # The form's own field names are what the sample endpoint reads: the page's values draw
    # this printer's 58 mm.
    assert picture(staff.post(SAMPLE_URL, form_as_sent(response))).width == 384
    edited = {**form_as_sent(response), "paper_width": "80"}
    assert picture(staff.post(SAMPLE_URL, edited)).width == 576
    refused = staff.post(SAMPLE_URL, {**edited, "role": "label", "label_width_mm": "300"})
    assert refused.status_code == 400
    assert "label_width_mm" in refused.json()["fields"]


def test_a_new_printers_page_has_the_button_but_draws_nothing_on_load(staff):
    response = staff.get(reverse("admin:printing_printerconfig_add"))
    html = response.content.decode()
    assert attribute(html, "sample-preview", "data-url") == SAMPLE_URL
    assert attribute(html, "sample-preview", "data-on-load") == ""
    assert ">预览样张</button>" in html
    # Its defaults draw too, before anything is saved.
    assert picture(staff.post(SAMPLE_URL, form_as_sent(response))).width == 576
    assert not PrinterConfig.objects.exists()


def test_staff_who_may_not_see_printers_get_no_sample_button(db):
    user = get_user_model().objects.create_user("clerk", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_printerconfig"))
    printer = PrinterConfig.objects.create(name="收银台")
    browser = Client()
    browser.force_login(user)
    html = page(browser, reverse("admin:printing_printerconfig_change", args=[printer.pk]))
    # The sample endpoint wants the view permission: no button that would answer 403.
    assert 'id="sample-preview"' not in html
    assert browser.post(SAMPLE_URL, {"name": "x"}).status_code == 403


def test_the_ticket_text_form_has_a_live_preview_of_its_four_fields(staff):
    profile, _created = ShopProfile.objects.get_or_create(pk=1)
    response = staff.get(reverse("admin:orders_shopprofile_change", args=[profile.pk]))
    html = response.content.decode()
    assert attribute(html, "ticket-preview", "data-url") == TICKET_TEXT_URL
    assert 'id="ticket-preview-result"' in html
    assert scripts(html)[-2:] == ["printing/preview.js", "printing/ticket_text_preview.js"]
    # The preview sits beside the fields, inside the form the script listens to.
    form = html[html.index('id="shopprofile_form"') :]
    assert form.index('class="ticket-text-fields"') < form.index('id="ticket-preview"')
    sent = form_as_sent(response)
    assert set(sent) >= {"shop_name", "footer_lines"}
    for name in ("shop_name", "address_line", "footer_lines", "pickup_prefix"):
        assert f'name="{name}"' in html
    assert picture(staff.post(TICKET_TEXT_URL, sent)).width == 576
    refused = staff.post(TICKET_TEXT_URL, {**sent, "pickup_prefix": "B-1"})
    assert refused.status_code == 400
    assert refused.json()["fields"]["pickup_prefix"]


def test_the_test_client_shows_each_received_jobs_paper(staff):
    printer = PrinterConfig.objects.create(name="收银台", paper_width=58)
    html = page(staff, reverse("printing:test_client"))
    template = attribute(html, "test-client", "data-preview-url")
    assert template == "/admin/print/jobs/0/preview.png"
    assert 'id="tc-preview"' in html
    assert scripts(html) == ["printing/common.js", "printing/preview.js", "printing/test_client.js"]
    job = print_job_create_test(printer=printer)
    assert PrintJob.objects.filter(pk=job.pk).exists()
    assert picture(staff.get(template.replace("/0/", f"/{job.pk}/"))).width == 384
