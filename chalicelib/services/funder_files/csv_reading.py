"""Streamed reading of the funders' `;`-separated CSV files, from an iterable of byte chunks.

Nothing here holds the whole file: bytes are decoded incrementally, cut into physical lines and
fed to the stdlib csv reader one line at a time, so a record's first physical line is known.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

UTF8 = "utf-8-sig"  # also strips a leading BOM
WINDOWS_1252 = "cp1252"

# Key added to a row that has more non-empty fields than the header has columns; its value is
# the French reason. Validators reject such a row without reading its (shifted) values.
EXTRA_FIELDS_KEY = "__extra_fields__"

# A physical line longer than this is not a CSV line (binary file, or a file without line
# ends): stopping early keeps memory bounded instead of accumulating the whole object.
MAX_LINE_CHARS = 1_000_000

_BOM_READ_AS_CP1252 = "\u00ef\u00bb\u00bf"  # a UTF-8 BOM at the start of a non-UTF-8 file


class CsvFileError(Exception):
    """The file cannot be read at all; reason is French, for the funder's report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class CsvContent:
    columns: list[str]
    extra_columns: list[str]
    # Lazy: (first physical line of the record, {column: stripped value}); may raise
    # CsvFileError while iterating when the rest of the file turns out unreadable.
    rows: Iterator[tuple[int, dict[str, str]]]


class _Reader(Protocol):
    """What the stdlib csv reader offers beyond iteration: the count of lines consumed."""

    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


def detect_encoding(chunks: Iterable[bytes]) -> str:
    """ "utf-8-sig" when the whole stream is valid UTF-8 (BOM or not), else "cp1252"."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in chunks:
            decoder.decode(chunk)
        decoder.decode(b"", final=True)  # a truncated multi-byte character at the very end
    except UnicodeDecodeError:
        return WINDOWS_1252
    return UTF8


def _physical_lines(chunks: Iterable[bytes], encoding: str) -> Iterator[str]:
    """Decoded lines, each with its own line end, cut on LF only (CRLF keeps its CR)."""
    # Windows-1252 leaves five bytes undefined; Windows itself reads them anyway, so do we
    # (as U+FFFD) rather than refusing a file the funder's tools produce.
    errors = "replace" if encoding == WINDOWS_1252 else "strict"
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    pending = ""
    line_number = 1
    for chunk in chunks:
        text = decoder.decode(chunk)
        if "\n" not in text:
            pending += text
            if len(pending) > MAX_LINE_CHARS:
                raise CsvFileError(f"ligne {line_number} trop longue : ce n'est pas un fichier CSV")
            continue
        lines = (pending + text).split("\n")
        pending = lines.pop()
        line_number += len(lines)
        for line in lines:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def _not_csv(reason: str) -> CsvFileError:
    return CsvFileError(f"le fichier n'est pas un CSV séparé par des points-virgules{reason}")


def _check_header(
    columns: list[str], required_columns: Sequence[str], optional_columns: Sequence[str]
) -> list[str]:
    """Raise CsvFileError for an unusable header; return the extra columns, in file order."""
    if any("\x00" in column for column in columns):
        raise CsvFileError(
            "le fichier n'est pas lisible : encodage attendu UTF-8 ou Windows-1252 "
            "(UTF-16 et fichiers binaires non acceptés)"
        )
    if len(columns) == 1:
        header = columns[0]
        if "," in header:
            raise _not_csv(" (l'en-tête est séparé par des virgules)")
        if "\t" in header:
            raise _not_csv(" (l'en-tête est séparé par des tabulations)")
        raise _not_csv("")
    named = [column for column in columns if column]
    duplicates = sorted({column for column in named if named.count(column) > 1})
    if duplicates:
        raise CsvFileError(f"colonnes en double : {', '.join(duplicates)}")
    missing = [column for column in required_columns if column not in named]
    if missing:
        raise CsvFileError(f"colonnes obligatoires absentes : {', '.join(missing)}")
    known = set(required_columns) | set(optional_columns)
    return [column for column in named if column not in known]


def read_csv(
    chunks: Iterable[bytes],
    encoding: str,
    required_columns: Sequence[str],
    optional_columns: Sequence[str],
) -> CsvContent:
    """Read the header now (CsvFileError if unusable) and return the data rows lazily."""
    reader = csv.reader(
        _physical_lines(chunks, encoding),
        delimiter=";",
        quotechar='"',
        doublequote=True,
        strict=False,
    )
    try:
        header = next((fields for fields in reader if any(f.strip() for f in fields)), None)
    except UnicodeDecodeError:
        raise CsvFileError("le fichier n'est pas lisible dans l'encodage détecté") from None
    except csv.Error:
        raise CsvFileError("l'en-tête n'est pas lisible (guillemet non fermé ?)") from None
    if header is None:
        raise CsvFileError("le fichier est vide")
    if encoding == WINDOWS_1252 and header[0].startswith(_BOM_READ_AS_CP1252):
        header[0] = header[0][len(_BOM_READ_AS_CP1252) :]
    columns = [column.strip().lower() for column in header]
    extra_columns = _check_header(columns, required_columns, optional_columns)
    return CsvContent(columns, extra_columns, _rows(reader, columns))


def _rows(reader: _Reader, columns: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    width = len(columns)
    previous_end = reader.line_num
    try:
        for fields in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            values = [field.strip() for field in fields]
            if not any(values):
                continue  # blank line, or only separators (spreadsheet exports add those)
            count = len(values)
            if count == width:
                yield start, dict(zip(columns, values, strict=True))
            elif count < width:
                values.extend([""] * (width - count))
                yield start, dict(zip(columns, values, strict=True))
            elif any(values[width:]):
                row = dict(zip(columns, values, strict=False))
                row[EXTRA_FIELDS_KEY] = (
                    f"la ligne compte {count} champs alors que l'en-tête compte {width} colonnes "
                    "(point-virgule non entouré de guillemets ?)"
                )
                yield start, row
            else:
                # Trailing empty fields (a line ending with ";"): harmless, nothing is lost.
                yield start, dict(zip(columns, values, strict=False))
    except UnicodeDecodeError:
        raise CsvFileError(
            f"ligne {previous_end + 1} : le fichier n'est pas lisible dans l'encodage détecté"
        ) from None
    except csv.Error:
        # In practice an unclosed quote that swallowed the following lines until the csv
        # module's field size limit.
        raise CsvFileError(
            f"ligne {previous_end + 1} : contenu illisible (guillemet non fermé ou champ trop long)"
        ) from None
