"""Where receipt bytes go: a network printer (raw TCP, usually port 9100), USB, serial, a
file, a CUPS queue, or the terminal. Blocking I/O with timeouts; callers run it in a thread.
No Django: the printer agent uses it too.
"""

import contextlib
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass

from printing.escpos_encode import (
    STATUS_OFFLINE_CAUSE,
    STATUS_PAPER,
    STATUS_PRINTER,
    status_problem,
)
from printing.tspl import TSPL_STATUS, tspl_status_problem

LANGUAGES = ("escpos", "tspl")


class DeviceError(Exception):
    """The printer could not print; the message says why, for people."""


@dataclass
class NetworkDevice:
    host: str
    port: int = 9100
    timeout: float = 5.0
    # Ask DLE EOT status before and after printing. Without an answer the printer is taken
    # to be hung; turn this off for a printer that never answers status queries.
    status: bool = True
    # How it is asked for its status: "escpos" (receipt printers, DLE EOT 1/2/4) or "tspl"
    # (label printers, <ESC>!?).
    language: str = "escpos"
    # The agent probes it now and then: even without status queries, a refused connection
    # says the printer is off.
    answers_status = True

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")

    @property
    def name(self) -> str:
        return f"network:{self.host}:{self.port}"

    def _connect(self) -> socket.socket:
        try:
            return socket.create_connection((self.host, self.port), timeout=self.timeout)
        except ConnectionRefusedError:
            raise DeviceError(f"connection refused by {self.host}:{self.port}") from None
        except TimeoutError:
            raise DeviceError(f"timeout connecting to {self.host}:{self.port}") from None
        except OSError as exc:
            raise DeviceError(f"cannot reach {self.host}:{self.port}: {exc}") from None

    def _ask(self, sock: socket.socket, query: bytes) -> int | None:
        try:
            sock.sendall(query)
            answer = sock.recv(1)
        except TimeoutError:
            return None
        except OSError as exc:
            raise DeviceError(f"{self.host}:{self.port} dropped the connection: {exc}") from None
        if not answer:
            raise DeviceError(f"{self.host}:{self.port} closed the connection")
        return answer[0]

    def _problem(self, sock: socket.socket) -> str | None:
        if self.language == "tspl":
            answer = self._ask(sock, TSPL_STATUS)
            if answer is None and self.status:
                raise DeviceError(f"timeout: {self.host}:{self.port} does not answer")
            return tspl_status_problem(answer)
        printer = self._ask(sock, STATUS_PRINTER)
        if printer is None:
            if self.status:
                raise DeviceError(f"timeout: {self.host}:{self.port} does not answer")
            return None
        cause = self._ask(sock, STATUS_OFFLINE_CAUSE) if printer & 0x08 else None
        paper = self._ask(sock, STATUS_PAPER)
        return status_problem(printer, cause, paper)

    def probe(self) -> str | None:
        """None when the printer can print; else what is wrong. Raises DeviceError when it
        cannot be reached at all."""
        with contextlib.closing(self._connect()) as sock:
            sock.settimeout(min(self.timeout, 2.0))
            return self._problem(sock) if self.status else None

    def print(self, data: bytes, content: str = "") -> None:
        with contextlib.closing(self._connect()) as sock:
            sock.settimeout(self.timeout)
            if self.status:
                problem = self._problem(sock)
                if problem:
                    raise DeviceError(problem)
            try:
                sock.sendall(data)
            except TimeoutError:
                raise DeviceError(f"timeout sending to {self.host}:{self.port}") from None
            except OSError as exc:
                raise DeviceError(
                    f"{self.host}:{self.port} dropped the connection: {exc}"
                ) from None
            if self.status:
                # The answer comes after the printer has read everything sent before it.
                problem = self._problem(sock)
                if problem:
                    raise DeviceError(problem)


@dataclass
class FileDevice:
    path: str
    answers_status = False

    @property
    def name(self) -> str:
        return f"file:{self.path}"

    def probe(self) -> str | None:
        return None

    def print(self, data: bytes, content: str = "") -> None:
        try:
            with open(self.path, "ab") as device:
                device.write(data)
        except OSError as exc:
            raise DeviceError(f"cannot write {self.path}: {exc}") from None


@dataclass
class CupsDevice:
    queue: str
    # CUPS keeps the printer's state to itself; a raw queue has no way back.
    answers_status = False

    @property
    def name(self) -> str:
        return f"cups:{self.queue}"

    def probe(self) -> str | None:
        return None if shutil.which("lp") else "the lp command (CUPS) is not installed"

    def print(self, data: bytes, content: str = "") -> None:
        if not shutil.which("lp"):
            raise DeviceError("the lp command (CUPS) is not installed")
        result = subprocess.run(
            ["lp", "-d", self.queue, "-o", "raw"], input=data, capture_output=True, timeout=30
        )
        if result.returncode:
            raise DeviceError(result.stderr.decode(errors="replace").strip() or "lp failed")


@dataclass
class EscposDevice:
    """USB and serial printers through python-escpos (needs pyusb or pyserial)."""

    kind: str
    args: tuple

    @property
    def name(self) -> str:
        return f"{self.kind}:{':'.join(str(arg) for arg in self.args)}"

    def _open(self):
        try:
            if self.kind == "usb":
                from escpos.printer import Usb

                return Usb(*self.args)
            from escpos.printer import Serial

            return Serial(*self.args)
        except ImportError as exc:
            package = "pyusb" if self.kind == "usb" else "pyserial"
            raise DeviceError(
                f"{self.kind} printers need {package}: pip install {package}"
            ) from exc
        except Exception as exc:
            raise DeviceError(f"cannot open {self.name}: {exc}") from None

    # Probed: the device may be unplugged, and many USB and serial printers answer DLE EOT.
    answers_status = True

    def probe(self) -> str | None:
        """None when the printer can print or does not say; else what is wrong. Raises
        DeviceError when it cannot be opened (unplugged, switched off, no permission)."""
        printer = self._open()
        try:
            return _escpos_problem(printer)
        finally:
            with contextlib.suppress(Exception):
                printer.close()

    def print(self, data: bytes, content: str = "") -> None:
        printer = self._open()
        try:
            printer._raw(data)
        except Exception as exc:
            raise DeviceError(f"{self.name}: {exc}") from None
        finally:
            printer.close()


def _escpos_problem(printer) -> str | None:
    """Ask a python-escpos printer DLE EOT 1/2/4 as a network one is asked. A printer (or a
    python-escpos version) that cannot be asked, or gives no answer, is taken to be fine:
    not knowing must not stop it printing."""
    query = getattr(printer, "query_status", None)
    if query is None:
        return None

    def ask(command: bytes) -> int | None:
        try:
            answer = query(command)
        except Exception:
            # No read endpoint, a read timeout: this printer does not answer.
            return None
        return answer[0] if answer else None

    status = ask(STATUS_PRINTER)
    if status is None:
        return None
    cause = ask(STATUS_OFFLINE_CAUSE) if status & 0x08 else None
    return status_problem(status, cause, ask(STATUS_PAPER))


@dataclass
class ConsoleDevice:
    """Draws the receipt in the terminal: try the whole chain without a printer."""

    answers_status = False

    @property
    def name(self) -> str:
        return "console"

    def probe(self) -> str | None:
        return None

    def print(self, data: bytes, content: str = "") -> None:
        width = max((len(line) for line in content.splitlines()), default=0)
        print("┌" + "─" * (width + 2) + "┐", file=sys.stdout)
        for line in content.rstrip("\n").splitlines():
            print("│ " + line + " │", file=sys.stdout)
        print("└" + "─" * (width + 2) + "┘", file=sys.stdout, flush=True)


def _host_port(text: str, default: int = 9100) -> tuple[str, int]:
    """`host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, default


def parse_device(spec: str, *, language: str = "escpos"):
    """`network:HOST[:PORT]`, `usb:VID:PID`, `serial:DEV[:BAUD]`, `file:PATH`, `cups:NAME`,
    `console`. Raises ValueError with the accepted forms. `language` is how a network
    printer is asked for its status ("escpos" or "tspl" for a label printer)."""
    kind, _, rest = spec.partition(":")
    try:
        if kind == "console" and not rest:
            return ConsoleDevice()
        if kind == "network" and rest:
            host, port = _host_port(rest)
            return NetworkDevice(host=host, port=port, language=language)
        if kind == "usb":
            vendor, product = rest.split(":")
            return EscposDevice("usb", (int(vendor, 16), int(product, 16)))
        if kind == "serial" and rest:
            device, _, baud = rest.partition(":")
            return EscposDevice("serial", (device, int(baud) if baud else 9600))
        if kind == "file" and rest:
            return FileDevice(rest)
        if kind == "cups" and rest:
            return CupsDevice(rest)
    except ValueError:
        pass
    raise ValueError(
        f"unknown device {spec!r}; use network:HOST[:PORT], usb:VID:PID (hex), "
        "serial:DEV[:BAUD], file:PATH, cups:NAME or console"
    )
