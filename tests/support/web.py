"""A running server over real HTTP: a staff member's session, the direct job service, and
/healthz. Each takes the server's base URL (`http://127.0.0.1:PORT`)."""

import json
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from urllib.parse import urlencode


class StaffSession:
    """A logged-in staff member's browser session (the order board's confirm button)."""

    def __init__(self, base: str, username: str, password: str, *, timeout: float = 10) -> None:
        self.base = base
        self.timeout = timeout
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(f"{base}/admin/login/", timeout=timeout).read()
        form = {"username": username, "password": password, "next": "/admin/"}
        self.post("/admin/login/", form, ajax=False)

    def csrf(self) -> str:
        return next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")

    def post(self, path: str, fields: dict | None = None, *, ajax: bool = True) -> bytes:
        """A form post; `ajax` as the page's scripts send it (CSRF header and Referer)."""
        fields = {**(fields or {}), "csrfmiddlewaretoken": self.csrf()}
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=urlencode(fields).encode(),
            headers={"X-CSRFToken": self.csrf(), "Referer": f"{self.base}{path}"} if ajax else {},
        )
        with self.opener.open(request, timeout=self.timeout) as response:
            return response.read()


def api_job(base: str, printer: str, content: str, *, key: str, timeout: float = 10) -> int:
    """A job for one printer through the direct job service (POST /api/jobs); its id."""
    request = urllib.request.Request(
        f"{base}/api/jobs",
        data=json.dumps({"printer": printer, "content": content}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())["job_id"]


def healthz(base: str) -> tuple[int, dict]:
    """/healthz's status code and body, 503 included."""
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
