import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.services.funder_files.csv_reading import (
    EXTRA_FIELDS_KEY,
    MAX_LINE_CHARS,
    CsvFileError,
    detect_encoding,
    read_csv,
)

REQUIRED = ("numero_dossier", "nom", "montant")
OPTIONAL = ("libelle",)


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def read_all(data: bytes, chunk_size: int = 8192, encoding: str | None = None):
    encoding = encoding or detect_encoding(chunked(data, chunk_size))
    content = read_csv(chunked(data, chunk_size), encoding, REQUIRED, OPTIONAL)
    return content, list(content.rows)


def test_utf8_without_bom_is_detected_and_read():
    data = "numero_dossier;nom;montant\nD1;Lefèvre;12,00\n".encode()
    assert detect_encoding([data]) == "utf-8-sig"
    content, rows = read_all(data)
    assert content.columns == ["numero_dossier", "nom", "montant"]
    assert rows == [(2, {"numero_dossier": "D1", "nom": "Lefèvre", "montant": "12,00"})]


def test_utf8_bom_is_dropped_from_the_first_column_name():
    data = "\ufeffnumero_dossier;nom;montant\nD1;Zoé;1,00\n".encode()
    assert detect_encoding([data]) == "utf-8-sig"
    content, rows = read_all(data)
    assert content.columns[0] == "numero_dossier"
    assert rows[0][1]["nom"] == "Zoé"


def test_windows_1252_is_detected_and_accents_and_euro_read_back():
    data = "numero_dossier;nom;montant;libelle\nD1;Hélène;12,00;Prime 5 €\n".encode("cp1252")
    assert detect_encoding([data]) == "cp1252"
    _, rows = read_all(data)
    assert rows[0][1]["nom"] == "Hélène"
    assert rows[0][1]["libelle"] == "Prime 5 €"


def test_a_utf8_bom_in_a_windows_1252_file_is_dropped_too():
    data = b"\xef\xbb\xbfnumero_dossier;nom;montant\nD1;" + "Hélène".encode("cp1252") + b";1\n"
    content, rows = read_all(data)
    assert content.columns[0] == "numero_dossier"
    assert rows[0][1]["nom"] == "Hélène"


def test_crlf_line_ends_leave_no_carriage_return_in_values():
    data = b"numero_dossier;nom;montant\r\nD1;Dupont;1,00\r\nD2;Martin;2,00\r\n"
    _, rows = read_all(data)
    assert [(line, row["montant"]) for line, row in rows] == [(2, "1,00"), (3, "2,00")]


def test_quoted_fields_keep_separators_doubled_quotes_and_newlines():
    data = (
        b"numero_dossier;nom;montant;libelle\r\n"
        b'D1;"Du;pont";1,00;"dit ""Jo""\r\nsur deux lignes"\r\n'
        b"D2;Martin;2,00;\r\n"
    )
    _, rows = read_all(data)
    assert rows[0] == (
        2,
        {
            "numero_dossier": "D1",
            "nom": "Du;pont",
            "montant": "1,00",
            "libelle": 'dit "Jo"\r\nsur deux lignes',
        },
    )
    assert rows[1][0] == 4  # the record above spans lines 2 and 3


def test_blank_and_separator_only_lines_are_ignored_but_still_counted():
    data = b"\nnumero_dossier;nom;montant\n\n  \n;;\nD1;Dupont;1,00\r\n\r\nD2;Martin;2,00"
    _, rows = read_all(data)
    assert [line for line, _ in rows] == [6, 8]


def test_values_and_column_names_are_stripped_and_names_lower_cased():
    data = b" Numero_Dossier ; NOM ;montant\n  D1 ;  Dupont  ; 1,00 \n"
    content, rows = read_all(data)
    assert content.columns == ["numero_dossier", "nom", "montant"]
    assert rows[0][1] == {"numero_dossier": "D1", "nom": "Dupont", "montant": "1,00"}


def test_unknown_columns_are_reported_in_file_order():
    data = b"zeta;numero_dossier;alpha;nom;montant;libelle\n1;D1;2;Dupont;1,00;x\n"
    content, rows = read_all(data)
    assert content.extra_columns == ["zeta", "alpha"]
    assert rows[0][1]["numero_dossier"] == "D1"


def test_missing_required_columns_reject_the_file_naming_them():
    with pytest.raises(CsvFileError) as error:
        read_all(b"nom;libelle\nDupont;x\n")
    assert error.value.reason == "colonnes obligatoires absentes : numero_dossier, montant"


def test_duplicate_columns_reject_the_file():
    with pytest.raises(CsvFileError, match="colonnes en double : nom"):
        read_all(b"numero_dossier;nom;NOM;montant\n")


@pytest.mark.parametrize(
    "data",
    [b"hello world\nsecond line\n", b"numero_dossier,nom,montant\nD1,Dupont,1.00\n"],
)
def test_a_file_without_semicolons_is_not_csv(data):
    with pytest.raises(CsvFileError, match="n'est pas un CSV séparé par des points-virgules"):
        read_all(data)


@pytest.mark.parametrize("data", [b"", b"\r\n\n  \n"])
def test_an_empty_file_is_rejected(data):
    with pytest.raises(CsvFileError, match="le fichier est vide"):
        read_all(data)


def test_a_utf16_file_is_rejected_as_unreadable():
    data = "numero_dossier;nom;montant\nD1;Dupont;1,00\n".encode("utf-16")
    with pytest.raises(CsvFileError, match="UTF-16"):
        read_all(data)


def test_a_row_with_more_fields_than_the_header_is_marked_for_rejection():
    _, rows = read_all(b"numero_dossier;nom;montant\nD1;Du;pont;1,00\n")
    line, row = rows[0]
    assert line == 2
    assert "4 champs" in row[EXTRA_FIELDS_KEY]


def test_trailing_empty_fields_beyond_the_header_are_harmless():
    _, rows = read_all(b"numero_dossier;nom;montant\nD1;Dupont;1,00;;\n")
    assert EXTRA_FIELDS_KEY not in rows[0][1]


def test_a_row_with_fewer_fields_gets_empty_values():
    _, rows = read_all(b"numero_dossier;nom;montant;libelle\nD1;Dupont\n")
    assert rows[0][1] == {"numero_dossier": "D1", "nom": "Dupont", "montant": "", "libelle": ""}


def test_a_multibyte_character_split_across_chunks_is_still_utf8():
    data = "numero_dossier;nom;montant\nD1;é€;1,00\r\n".encode()
    split = data.index("é".encode()) + 1
    chunks = [data[:split], data[split:]]
    assert detect_encoding(chunks) == "utf-8-sig"
    rows = list(read_csv(chunks, "utf-8-sig", REQUIRED, OPTIONAL).rows)
    assert rows[0][1]["nom"] == "é€"


def test_a_truncated_multibyte_character_at_the_end_is_not_utf8():
    assert detect_encoding([b"numero_dossier;nom\n", b"D1;\xc3"]) == "cp1252"


def test_a_crlf_split_across_chunks_ends_the_line_once():
    data = b"numero_dossier;nom;montant\r\nD1;Dupont;1,00\r\nD2;Martin;2,00\r\n"
    split = data.index(b"\r\nD2") + 1
    rows = list(read_csv([data[:split], data[split:]], "utf-8-sig", REQUIRED, OPTIONAL).rows)
    assert [(line, row["nom"]) for line, row in rows] == [(2, "Dupont"), (3, "Martin")]


SAMPLE = (
    '\ufeffnumero_dossier;nom;montant;libelle\r\nD1;Hélène;1,00;"a;b ""c""\r\nd"\r\n\r\n'
    "D2;Zoë €;-2,50;\nD3;Ο Ελληνικός;3,00;x\n"
).encode()


@given(st.lists(st.integers(min_value=1, max_value=len(SAMPLE)), max_size=12))
def test_any_chunking_reads_the_same_rows(cuts):
    points = sorted(set(cuts))
    chunks = [SAMPLE[a:b] for a, b in zip([0, *points], [*points, len(SAMPLE)], strict=True)]
    assert detect_encoding(chunks) == "utf-8-sig"
    assert list(read_csv(chunks, "utf-8-sig", REQUIRED, OPTIONAL).rows) == list(
        read_csv([SAMPLE], "utf-8-sig", REQUIRED, OPTIONAL).rows
    )


def test_rows_are_read_lazily_after_the_header():
    def chunks():
        yield b"numero_dossier;nom;montant\n"
        raise AssertionError("read beyond the header before rows were asked for")

    content = read_csv(chunks(), "utf-8-sig", REQUIRED, OPTIONAL)
    assert content.columns == ["numero_dossier", "nom", "montant"]


def test_an_unclosed_quote_swallowing_the_file_is_reported_with_its_line():
    data = b'numero_dossier;nom;montant\nD1;Dupont;1,00\nD2;"Martin;2,00\n' + b"x;y;z\n" * 30000
    content = read_csv([data], "utf-8-sig", REQUIRED, OPTIONAL)
    rows = content.rows
    assert next(rows)[0] == 2
    with pytest.raises(CsvFileError, match=r"ligne 3 .*guillemet non fermé"):
        next(rows)


def test_bytes_that_are_not_utf8_in_a_file_read_as_utf8_are_a_file_error():
    content = read_csv([b"numero_dossier;nom;montant\n", b"D1;\xe9;1\n"], "utf-8-sig", REQUIRED, ())
    with pytest.raises(CsvFileError, match="ligne 2"):
        list(content.rows)


def test_a_file_without_line_ends_stops_at_the_line_length_limit():
    def chunks():
        yield b"numero_dossier;nom;montant\n"
        for _ in range(MAX_LINE_CHARS // 65536 + 2):
            yield b"x" * 65536

    content = read_csv(chunks(), "utf-8-sig", REQUIRED, OPTIONAL)
    with pytest.raises(CsvFileError, match="ligne 2 trop longue"):
        list(content.rows)
