"""Reading text bytes as a printer does: one character at a time, a lead byte deciding how many
bytes the character takes, whether or not the bytes form a character the encoding has."""

import codecs

REPLACEMENT = "\ufffd"

# Python's codec names (codecs.lookup(...).name) by how they split bytes into characters.
_FAMILIES = {
    "gb2312": "gb",
    "gbk": "gb",
    "gb18030": "gb18030",
    "big5": "big5",
    "big5hkscs": "big5",
    "cp950": "big5",
    "shift_jis": "sjis",
    "cp932": "sjis",
    "shift_jis_2004": "sjis",
    "shift_jisx0213": "sjis",
    "euc_kr": "gb",
    "cp949": "gb",
}


def multibyte_family(encoding: str) -> str:
    """ "gb", "gb18030", "big5", "sjis", or "" for a single-byte code page."""
    return _FAMILIES.get(codecs.lookup(encoding).name, "")


def char_at(data: bytes, i: int, encoding: str, family: str) -> tuple[str, int, bool]:
    """The character at data[i] (multi-byte when `family` says so): its text, the bytes it
    takes, and whether they decode. Undecodable bytes give U+FFFD."""
    lead = data[i]
    length = 1
    if family == "sjis":
        if 0x81 <= lead <= 0x9F or 0xE0 <= lead <= 0xFC:
            length = 2
    elif family and 0x81 <= lead <= 0xFE:
        length = 2
        if (
            family == "gb18030"
            and len(data) >= i + 4
            and 0x30 <= data[i + 1] <= 0x39
            and 0x81 <= data[i + 2] <= 0xFE
            and 0x30 <= data[i + 3] <= 0x39
        ):
            length = 4
    if length > 1 and (len(data) < i + length or (length == 2 and data[i + 1] < 0x40)):
        # A lead byte with no trail byte after it (end of data, a command, a space).
        return REPLACEMENT, 1, False
    chunk = data[i : i + length]
    try:
        return chunk.decode(encoding), length, True
    except UnicodeDecodeError:
        return REPLACEMENT, length, False


def _frequent_gb(chunk: bytes) -> bool:
    # GB2312's symbols (rows A1-A3) and level-1 hanzi (B0-D7), the 3755 most used.
    return len(chunk) == 2 and (0xA1 <= chunk[0] <= 0xA3 or 0xB0 <= chunk[0] <= 0xD7)


def _frequent_big5(chunk: bytes) -> bool:
    # Big5's symbols (A1-A3) and its 5401 frequent hanzi (A4-C6).
    return len(chunk) == 2 and 0xA1 <= chunk[0] <= 0xC6


_FREQUENT = {"gb": _frequent_gb, "gb18030": _frequent_gb, "big5": _frequent_big5}
_OTHER = {"gb": "big5", "gb18030": "big5", "big5": "gb18030"}


def encoding_hint(chunks: list[bytes], encoding: str) -> str | None:
    """A note when the two-byte characters printed read as Chinese text in the other Chinese
    encoding but as rare or undefined characters in the printer's: GB bytes sent to a Big5
    printer decode without error into nonsense, so errors alone do not show it."""
    family = multibyte_family(encoding)
    if family not in _FREQUENT or len(chunks) < 4:
        return None
    other = _OTHER[family]
    try:
        for chunk in chunks:
            chunk.decode(other)
    except UnicodeDecodeError:
        return None
    mine = sum(map(_FREQUENT[family], chunks)) / len(chunks)
    theirs = sum(map(_FREQUENT[multibyte_family(other)], chunks)) / len(chunks)
    if theirs >= 0.9 and mine < 0.75:
        rare = round((1 - mine) * len(chunks))
        return (
            f"the text reads as {other}, not {encoding}: {rare} of {len(chunks)} two-byte "
            f"characters are rare or undefined in {encoding} (encoded for another printer?)"
        )
    return None
