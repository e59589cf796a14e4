"""bench.webhooks, run once at a tiny size so it never rots: every delivery arrives once."""

import json
import os
import subprocess
import sys

from tests.support import ROOT


def test_the_webhook_benchmark_delivers_every_event_once():
    done = subprocess.run(
        [sys.executable, "-m", "bench.webhooks", "--deliveries", "40", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("DJANGO_SETTINGS")},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["bench"] == "webhooks.deliveries"
    assert (result["deliveries"], result["lost"], result["duplicates"]) == (40, 0, 0)
    assert result["per_second"] > 0
