"""Reading an uploaded import file row by row: CSV (UTF-8 with or without BOM, GB18030/GBK, detected or chosen)
and XLSX (the first sheet). Nothing here holds the whole file: CSV is decoded as a stream and XLSX is read with
openpyxl's read-only mode, so memory stays flat however large the file is.

A file's columns reach a kind's columns through a mapping: {source column as the file spells it: the kind's
column, or "" for ignored}. A source column the mapping does not name is matched by its name (case, spaces and
dashes aside)."""

from __future__ import annotations

import codecs
import csv
import datetime
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _

# The encodings a user may choose; "" detects.
ENCODINGS = ("utf-8", "gb18030")
# Bytes read to detect the encoding.
SAMPLE_BYTES = 256 * 1024
XLSX_MAGIC = b"PK\x03\x04"


class ImportFileError(Exception):
    """The file as a whole cannot be read (not text in its encoding, not a workbook, no header, no known column)."""


def detect_encoding(stream: IO[bytes]) -> str:
    """utf-8-sig for a UTF-8 BOM; utf-8 when a sample decodes strictly as UTF-8; else gb18030 (what Excel on a
    Chinese Windows saves as "CSV"; a superset of GBK and GB2312). The stream is rewound."""
    stream.seek(0)
    sample = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # final=False: a character cut by the end of the sample is not an error
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def is_xlsx(stream: IO[bytes]) -> bool:
    stream.seek(0)
    head = stream.read(4)
    stream.seek(0)
    return head == XLSX_MAGIC


def _cell_text(value: Any) -> str:
    """An XLSX cell as the text a CSV of it would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _decoded_lines(stream: IO[bytes], encoding: str, position: list[int]) -> Iterator[str]:
    """The file's physical lines decoded one by one (so a bad byte is reported on its own line); `position[0]`
    counts the lines read. Splitting on b"\n" is safe: in UTF-8 and GB18030 that byte is never part of another
    character."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    for raw in stream:
        position[0] += 1
        yield decoder.decode(raw)
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def _csv_rows(stream: IO[bytes], encoding: str) -> Iterator[list[str]]:
    position = [0]
    reader = csv.reader(_decoded_lines(stream, encoding, position))
    try:
        yield from reader
    except UnicodeDecodeError:
        raise ImportFileError(
            _(
                "The file is not %(encoding)s text from line %(line)d. Choose its encoding, or save it as "
                "“CSV UTF-8”, and upload it again."
            )
            % {"encoding": encoding.upper().replace("-SIG", ""), "line": position[0]}
        ) from None
    except csv.Error as exc:
        raise ImportFileError(
            _("The file is not valid CSV from line %(line)d: %(error)s")
            % {"line": reader.line_num, "error": exc}
        ) from None


def _xlsx_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception:
        raise ImportFileError(_("The file is not a readable XLSX workbook.")) from None
    try:
        if not workbook.worksheets:
            return
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield [_cell_text(value) for value in values]
    finally:
        workbook.close()


@contextmanager
def open_rows(stream: IO[bytes], *, xlsx: bool, encoding: str = "") -> Iterator[Iterator[list[str]]]:
    """Every row of the file (the header first) as lists of cell texts, read as a stream."""
    stream.seek(0)
    if xlsx:
        rows = _xlsx_rows(stream)
    else:
        chosen = encoding.lower() if encoding else detect_encoding(stream)
        if chosen == "utf-8":
            chosen = "utf-8-sig"  # a BOM, if any, is not part of the first column's name
        rows = _csv_rows(stream, chosen)
    try:
        yield rows
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


# --- columns ------------------------------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s\-]+")


def normal_name(name: str) -> str:
    return _SEPARATORS.sub("_", name.strip().lower())


def resolve_columns(
    columns: Sequence[str], header: Sequence[str], mapping: dict[str, str] | None
) -> list[str | None]:
    """For each source column of `header`, the kind's column it fills (None: ignored). A mapping entry wins
    (by the source name, case aside); else the source name itself when it is a column of the kind. A kind's
    column is filled by one source column at most (the first)."""
    by_source = {normal_name(source): target for source, target in (mapping or {}).items()}
    known = set(columns)
    taken: set[str] = set()
    resolved: list[str | None] = []
    for source in header:
        key = normal_name(source)
        target = by_source.get(key, key)
        if target and target in known and target not in taken:
            taken.add(target)
            resolved.append(target)
        else:
            resolved.append(None)
    return resolved
