"""The printer agent's command line: its options, each also read from an environment variable
`PRINT_AGENT_<OPTION>`, with their defaults, and the version the agent reports. No Django:
`python -m printing.agent` parses its arguments here.
"""

import argparse
import os
import socket
from pathlib import Path

from printing.devices import LANGUAGES, parse_device
from printing.escpos_encode import ENCODINGS

AGENT_VERSION = "1.0.0"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"PRINT_AGENT_{name}") or default


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError("must be between 0 and 3600 seconds")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m printing.agent",
        description=(
            "Print receipts from the shop's print server on a local printer. Every option "
            "can also be set as an environment variable PRINT_AGENT_<OPTION> "
            "(e.g. PRINT_AGENT_URL, PRINT_AGENT_TOKEN)."
        ),
    )
    parser.add_argument(
        "--url",
        action="append",
        help="print server WebSocket URL; repeat (or comma-separate) for fallbacks "
        "(default ws://localhost:8765/)",
    )
    parser.add_argument("--token", default=_env("TOKEN"), help="the printer's secret token")
    parser.add_argument(
        "--name",
        default=_env("NAME", socket.gethostname()),
        help="printer name, as configured on the server (without a token, this picks the printer)",
    )
    parser.add_argument(
        "--device",
        default=_env("DEVICE", "console"),
        help="network:HOST[:PORT] | usb:VID:PID | serial:DEV[:BAUD] | file:PATH | cups:NAME | "
        "console (default: console, draws receipts in the terminal)",
    )
    parser.add_argument(
        "--encoding",
        default=_env("ENCODING"),
        choices=ENCODINGS,
        help="text encoding of the printer (default: the server's setting, else gb18030)",
    )
    parser.add_argument(
        "--language",
        default=_env("LANGUAGE", "escpos"),
        choices=LANGUAGES,
        help="how a network printer is asked its status: escpos (receipt printers, default) "
        "or tspl (label printers; label jobs always use tspl)",
    )
    parser.add_argument(
        "--paper-width",
        type=int,
        default=int(_env("PAPER_WIDTH", "0")) or None,
        choices=(58, 80),
        help="paper width in mm (default: the server's setting)",
    )
    parser.add_argument(
        "--state-file",
        default=_env("STATE_FILE"),
        help="where printed job ids are kept (default ~/.shop-print-agent/NAME.json)",
    )
    parser.add_argument("--model", default=_env("MODEL", f"shop-print-agent {AGENT_VERSION}"))
    parser.add_argument(
        "--probe-interval",
        type=_seconds,
        default=_env("PROBE_INTERVAL", "10"),
        help="ask the printer its status (paper out, cover open, offline) every this many "
        "seconds and tell the server when it changes; 0 = only on connecting and after a "
        "failed print (default 10)",
    )
    parser.add_argument("--max-backoff", type=float, default=30.0, help=argparse.SUPPRESS)
    parser.add_argument("--log-level", default=_env("LOG_LEVEL", "INFO"))
    options = parser.parse_args(argv)
    urls = options.url or [_env("URL", "ws://localhost:8765/")]
    options.url = [url.strip() for value in urls for url in value.split(",") if url.strip()]
    if not options.state_file:
        safe = "".join(c if c.isalnum() else "_" for c in options.name) or "agent"
        options.state_file = str(Path.home() / ".shop-print-agent" / f"{safe}.json")
    try:
        parse_device(options.device)
    except ValueError as exc:
        parser.error(str(exc))
    return options
