"""A fake TSPL label printer on 127.0.0.1: records the bytes of every connection and answers
`<ESC>!?` with one status byte, as a real one does; `parse_tspl` reads what it was sent back
into labels, so tests check what would come out on paper."""

import re
import socket
from dataclasses import dataclass, field

from printing.tspl import HEAD_OPEN, PAPER_EMPTY, TSPL_STATUS
from tests.fake_printer import FakeTcpPrinter

STATUS_BYTES = {"ok": 0x00, "paper_empty": PAPER_EMPTY, "head_open": HEAD_OPEN}


class FakeLabelPrinter(FakeTcpPrinter):
    """Its `mode`: ok | paper_empty | head_open."""

    def wait_for_prints(self, count: int, *, within: float = 10.0) -> list[bytes]:
        """Wait until `count` connections have ended with bytes; returns them."""
        with self._changed:
            found = self._changed.wait_for(lambda: len(self.prints) >= count, timeout=within)
            prints = list(self.prints)
        assert found, f"{len(prints)}/{count} connections printed"
        return prints

    def _serve(self, conn: socket.socket) -> None:
        data = b""
        conn.settimeout(30)
        try:
            while chunk := conn.recv(65536):
                data += chunk
                while (index := data.find(TSPL_STATUS)) != -1:
                    data = data[:index] + data[index + len(TSPL_STATUS) :]
                    self.status_queries += 1
                    conn.sendall(bytes([STATUS_BYTES[self.mode]]))
        except OSError:
            pass
        finally:
            conn.close()
        with self._changed:
            self.prints.append(data)
            self._changed.notify_all()


@dataclass
class ParsedText:
    x: int
    y: int
    font: str
    scale: int
    text: str


@dataclass
class ParsedLabel:
    texts: list[ParsedText] = field(default_factory=list)
    qr: str | None = None

    @property
    def strings(self) -> list[str]:
        return [text.text for text in self.texts]


@dataclass
class ParsedJob:
    setup: dict[str, str]
    labels: list[ParsedLabel]


_TEXT = re.compile(rb'TEXT (\d+),(\d+),"([^"]+)",0,(\d+),(\d+),"((?:\\\["\]|[^"])*)"')
_QR = re.compile(rb'QRCODE \d+,\d+,L,\d+,A,0,"((?:\\\["\]|[^"])*)"')


def _decode(content: bytes, encoding: str) -> str:
    return content.replace(b'\\["]', b'"').decode(encoding)


def parse_tspl_job(data: bytes, encoding: str) -> ParsedJob:
    """Every command line of `data` checked: the setup commands, then per label CLS, TEXT and
    QRCODE lines and PRINT 1,1. AssertionError on anything else (a line broken by a stray
    byte included)."""
    assert data.endswith(b"\r\n"), "the last command is not ended with CR LF"
    setup: dict[str, str] = {}
    labels: list[ParsedLabel] = []
    current: ParsedLabel | None = None
    for line in data[:-2].split(b"\r\n"):
        if line == b"CLS":
            assert current is None, "CLS inside a label"
            current = ParsedLabel()
        elif line == b"PRINT 1,1":
            assert current is not None, "PRINT without CLS"
            labels.append(current)
            current = None
        elif current is not None and (match := _TEXT.fullmatch(line)):
            x, y, font, sx, sy, content = match.groups()
            assert sx == sy, "a text scaled unevenly"
            current.texts.append(
                ParsedText(int(x), int(y), font.decode(), int(sx), _decode(content, encoding))
            )
        elif current is not None and (match := _QR.fullmatch(line)):
            current.qr = _decode(match.group(1), encoding)
        else:
            assert current is None, f"unexpected line {line!r} in a label"
            assert not labels, f"unexpected line {line!r} between labels"
            command, _, value = line.decode("ascii").partition(" ")
            setup[command] = value
    assert current is None, "a label without PRINT"
    return ParsedJob(setup=setup, labels=labels)


def parse_tspl(data: bytes, encoding: str) -> list[ParsedLabel]:
    return parse_tspl_job(data, encoding).labels
