"""Reading the procedure catalogue file (../shared/contracts/procedures.md) into checked rows.

JSON (a list of objects, or ``{"thu_tuc": [...]}``) or CSV (UTF-8, optional BOM, a header row,
quoted multi-line fields). All or nothing: any refused row refuses the file, and every problem is
one Vietnamese line naming the row ("dòng N" counts like a spreadsheet: the CSV header is row 1;
"mục N" is the N-th object of a JSON list).
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "FIELDS",
    "CatalogueError",
    "ProcedureRow",
    "check_rows",
    "parse_catalogue",
    "read_catalogue",
]

# The indexed fields, in the order answers show them; `ma` and `ten` are required.
FIELDS = (
    "ma",
    "ten",
    "linh_vuc",
    "co_quan",
    "doi_tuong",
    "cach_thuc",
    "trinh_tu",
    "ho_so",
    "thoi_han",
    "phi",
    "can_cu",
    "url",
)
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_FIELD_CHARS = 20_000
_MAX_PROBLEMS = 20  # lines shown; the rest are counted


class CatalogueError(ValueError):
    """A refused catalogue file; ``problems`` are Vietnamese lines, each naming its row."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:_MAX_PROBLEMS]
        more = len(problems) - len(shown)
        text = "; ".join(shown) + (f"; và {more} lỗi khác" if more > 0 else "")
        super().__init__(f"Không nhập danh mục thủ tục (không dòng nào được nhập): {text}")


@dataclass(frozen=True)
class ProcedureRow:
    """One checked procedure of a catalogue file (texts NFC, stripped; '' when absent)."""

    ma: str
    ten: str
    linh_vuc: str = ""
    co_quan: str = ""
    doi_tuong: str = ""
    cach_thuc: str = ""
    trinh_tu: str = ""
    ho_so: str = ""
    thoi_han: str = ""
    phi: str = ""
    can_cu: str = ""
    url: str = ""
    cap_nhat: date | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def read_catalogue(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[ProcedureRow]:
    """The checked rows of the catalogue at ``path`` (.json or .csv); CatalogueError otherwise."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CatalogueError([f"không đọc được tệp {path.name}: {exc.strerror or exc}"]) from None
    if size > max_bytes:
        raise CatalogueError(
            [
                f"tệp {path.name} nặng {size / 1048576:.1f} MB, quá giới hạn "
                f"{max_bytes / 1048576:.1f} MB"
            ]
        )
    with path.open("rb") as fh:
        data = fh.read(max_bytes + 1)
    return parse_catalogue(data, path.suffix.lower(), max_bytes=max_bytes)


def parse_catalogue(
    data: bytes, suffix: str = "", *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[ProcedureRow]:
    """Rows of a catalogue given as bytes; ``suffix`` (".json"/".csv") or the content decides."""
    if len(data) > max_bytes:
        raise CatalogueError([f"tệp quá giới hạn {max_bytes / 1048576:.1f} MB"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogueError(
            [f"tệp không phải UTF-8 (byte lỗi ở vị trí {exc.start}); hãy lưu lại dạng UTF-8"]
        ) from None
    is_json = suffix == ".json" or (suffix != ".csv" and text.lstrip()[:1] in ("[", "{"))
    raw = _json_rows(text) if is_json else _csv_rows(text)
    return check_rows(raw)


def _json_rows(text: str) -> list[tuple[str, Any]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError([f"JSON không hợp lệ ở dòng {exc.lineno}: {exc.msg}"]) from None
    except RecursionError:
        raise CatalogueError(["JSON lồng nhau quá sâu"]) from None
    if isinstance(doc, dict) and "thu_tuc" in doc:
        doc = doc["thu_tuc"]
    if not isinstance(doc, list):
        raise CatalogueError(['JSON phải là một danh sách thủ tục, hoặc {"thu_tuc": [...]}'])
    return [(f"mục {i}", item) for i, item in enumerate(doc, start=1)]


def _csv_rows(text: str) -> list[tuple[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise CatalogueError(["tệp CSV trống"])
        keys = [h.strip().lower() for h in header]
        if "ma" not in keys or "ten" not in keys:
            raise CatalogueError(
                [
                    "dòng 1: dòng tiêu đề CSV phải có cột 'ma' và 'ten' "
                    f"(đang có: {', '.join(k for k in keys if k)[:200] or 'không cột nào'})"
                ]
            )
        rows: list[tuple[str, Any]] = []
        for n, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue  # a blank line
            if len(values) > len(keys):
                raise CatalogueError(
                    [f"dòng {n}: có {len(values)} ô nhưng tiêu đề chỉ có {len(keys)} cột"]
                )
            rows.append((f"dòng {n}", dict(zip(keys, values, strict=False))))
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as exc:
        raise CatalogueError([f"CSV không hợp lệ ở dòng {reader.line_num}: {exc}"]) from None
    return rows


def _text(value: Any) -> str | None:
    """A field's text (numbers as written, a list of lines joined); None when not text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).replace("\r\n", "\n").strip()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(unicodedata.normalize("NFC", v).strip() for v in value if v.strip())
    return None


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc) and " " not in url


def check_rows(raw: list[tuple[str, Any]]) -> list[ProcedureRow]:
    """Checked rows of (row label, object) pairs; CatalogueError naming every refused row."""
    if len(raw) > MAX_ROWS:
        raise CatalogueError([f"tệp có hơn {MAX_ROWS} thủ tục, quá giới hạn"])
    problems: list[str] = []
    rows: list[ProcedureRow] = []
    first_row_of: dict[str, str] = {}
    for label, item in raw:
        if not isinstance(item, dict):
            problems.append(f"{label}: không phải một thủ tục (cần một đối tượng có 'ma', 'ten')")
            continue
        values: dict[str, str] = {}
        bad = False
        for key in (*FIELDS, "cap_nhat"):
            text = _text(item.get(key))
            if text is None:
                problems.append(f"{label}: trường '{key}' phải là chữ")
                bad = True
            elif len(text) > MAX_FIELD_CHARS:
                problems.append(f"{label}: trường '{key}' dài quá {MAX_FIELD_CHARS} ký tự")
                bad = True
            else:
                values[key] = text
        if bad:
            continue
        ma, ten = values["ma"], values["ten"]
        if not ma:
            problems.append(f"{label}: thiếu mã thủ tục ('ma')")
            continue
        if not ten:
            problems.append(f"{label}: thủ tục {ma} thiếu tên ('ten')")
            continue
        if ma in first_row_of:
            problems.append(f"{label}: mã {ma} trùng với {first_row_of[ma]}")
            continue
        first_row_of[ma] = label
        if len(ma) > 100:
            problems.append(f"{label}: mã thủ tục dài quá 100 ký tự")
            continue
        url = values["url"]
        if url and not _is_http_url(url):
            problems.append(f"{label}: đường dẫn '{url[:80]}' của thủ tục {ma} không phải http(s)")
            continue
        cap_nhat: date | None = None
        if values["cap_nhat"]:
            try:
                cap_nhat = date.fromisoformat(values["cap_nhat"])
            except ValueError:
                problems.append(
                    f"{label}: ngày cập nhật '{values['cap_nhat'][:40]}' của thủ tục {ma} "
                    "không theo dạng YYYY-MM-DD"
                )
                continue
        extra = {
            str(k): v
            for k, v in item.items()
            if k not in FIELDS and k != "cap_nhat" and v not in (None, "")
        }
        rows.append(
            ProcedureRow(
                **{k: values[k] for k in FIELDS},
                cap_nhat=cap_nhat,
                extra=extra,
            )
        )
    if problems:
        raise CatalogueError(problems)
    if not rows:
        raise CatalogueError(["tệp không có thủ tục nào"])
    return rows
