"""Every word of the UI has a Chinese translation, and the compiled catalogue is current."""

import gettext
import os
import shutil
import subprocess
import sys

import polib

from tests.services import unavailable
from tests.support import ROOT

CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_message_is_translated_to_chinese():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    untranslated = [entry.msgid for entry in po if not entry.translated()]
    assert untranslated == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []


def test_the_compiled_catalogue_matches_its_source():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        mo = gettext.GNUTranslations(compiled)
    stale = [
        entry.msgid
        for entry in po
        if entry.msgid and not entry.msgid_plural and mo.gettext(entry.msgid) != entry.msgstr
    ]
    assert stale == [], "run: python manage.py compilemessages -l zh_Hans"


def test_no_new_message_is_missing_from_the_catalogue(tmp_path):
    if shutil.which("xgettext") is None:
        unavailable("xgettext is not installed (apt-get install gettext)")
    for name in ("manage.py", "shop", "orders", "printing", "integrations", "templates", "locale"):
        source = ROOT / name
        copy = shutil.copy if source.is_file() else shutil.copytree
        copy(source, tmp_path / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_SECRET_KEY": "x"},
        timeout=120,
    )
    fresh = polib.pofile(str(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    known = {entry.msgid for entry in polib.pofile(str(CATALOGUE / "django.po"))}
    assert [entry.msgid for entry in fresh if entry.msgid not in known] == [], (
        "new messages: run makemessages -l zh_Hans, translate them, then compilemessages"
    )
