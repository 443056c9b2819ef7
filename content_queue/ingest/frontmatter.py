"""Markdown front matter: a safe subset of YAML read from the parser's events, never constructed.

Accepted: one mapping of keys to plain scalars, or (for ``channels``) a flat list of scalars, in
at most ``max_front_matter_bytes``. Anchors, aliases, tags, nested mappings or lists, and several
documents are refused with the key named: nothing is ever expanded or built recursively, so an
"alias bomb" or a list nested ten thousand deep costs no more than its own bytes.
"""

from __future__ import annotations

import logging

import yaml

from content_queue.ingest.rules import IngestLimits, IngestRefusal, over_limit, printable_name

__all__ = ["FRONT_MATTER_KEYS", "split_front_matter"]

log = logging.getLogger(__name__)

# key -> whether a list of scalars is accepted
FRONT_MATTER_KEYS = {
    "title": False,
    "topic": False,
    "summary": False,
    "channels": True,
    "publish_at": False,
    "cover": False,
    "id": False,
}
_NULLS = {"", "~", "null", "Null", "NULL"}
_FORMAT_HINT = (
    "Mỗi dòng phải có dạng “khóa: giá trị”, ví dụ “title: Tiêu đề bài”; riêng "
    "“channels” có thể là danh sách [website, facebook]. Không dùng &, *, ! hay danh "
    "sách lồng nhau."
)


def _refuse(name: str, key: str | None, what: str) -> IngestRefusal:
    where = f"khóa “{printable_name(key, 60)}”" if key else "phần đầu"
    return IngestRefusal(
        "front_matter",
        f"Phần thông tin đầu tệp “{name}” (giữa hai dòng ---), {where}: {what}.",
        _FORMAT_HINT,
    )


def _scalar(event: yaml.ScalarEvent) -> str | None:
    if event.style is None and event.value in _NULLS:
        return None
    return str(event.value)


def _read(block: str, name: str) -> dict[str, object]:
    """The key/value pairs of ``block`` read from YAML events, refusing anything outside the subset."""
    meta: dict[str, object] = {}
    key: str | None = None
    items: list[str | None] | None = None
    depth = 0
    documents = 0
    try:
        for event in yaml.parse(block, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise _refuse(name, key, "không được dùng bí danh (*)")
            anchor = getattr(event, "anchor", None)
            tag = getattr(event, "tag", None)
            if anchor is not None:
                raise _refuse(name, key, "không được dùng nhãn (&)")
            if tag is not None and not isinstance(
                event, yaml.ScalarEvent | yaml.CollectionStartEvent
            ):
                raise _refuse(name, key, "không được dùng kiểu (!)")
            if isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent) and tag not in (
                None,
                "!",
            ):
                raise _refuse(name, key, "không được dùng kiểu (!)")
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _refuse(name, None, "chỉ được có một khối thông tin")
            elif isinstance(event, yaml.MappingStartEvent):
                depth += 1
                if depth > 1:
                    raise _refuse(name, key, "giá trị không được là một nhóm khóa lồng nhau")
            elif isinstance(event, yaml.SequenceStartEvent):
                if depth == 0 or key is None:
                    raise _refuse(name, None, "phải là các dòng “khóa: giá trị”")
                if items is not None:
                    raise _refuse(name, key, "không được dùng danh sách lồng nhau")
                if not FRONT_MATTER_KEYS.get(key, True):
                    raise _refuse(name, key, "phải là một giá trị, không phải danh sách")
                items = []
            elif isinstance(event, yaml.SequenceEndEvent):
                assert key is not None and items is not None
                meta[key] = [i for i in items if i is not None]
                key, items = None, None
            elif isinstance(event, yaml.MappingEndEvent):
                depth -= 1
            elif isinstance(event, yaml.ScalarEvent):
                if depth == 0:
                    raise _refuse(name, None, "phải là các dòng “khóa: giá trị”")
                if items is not None:
                    items.append(_scalar(event))
                elif key is None:
                    key = str(event.value).strip().lower()
                    if key in meta:
                        raise _refuse(name, key, "khóa bị ghi hai lần")
                else:
                    meta[key] = _scalar(event)
                    key = None
    except yaml.YAMLError as exc:
        raise _refuse(name, key, "không đọc được (sai cú pháp)") from exc
    unknown = [k for k in meta if k not in FRONT_MATTER_KEYS]
    if unknown:
        log.info("front matter of %s: ignoring unknown keys %s", name, unknown)
    return {k: v for k, v in meta.items() if k in FRONT_MATTER_KEYS}


def split_front_matter(text: str, name: str, limits: IngestLimits) -> tuple[dict[str, object], str]:
    """The front matter's known keys and the Markdown after it; no front matter gives ``{}``."""
    if not text.startswith("---"):
        return {}, text
    first_end = text.find("\n")
    if first_end < 0 or text[:first_end].strip() != "---":
        return {}, text
    pos = first_end + 1
    size = 0
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end + 1
        line = text[pos:end]
        if line.strip() in ("---", "..."):
            if size > limits.max_front_matter_bytes:
                raise over_limit(
                    "front_matter_too_large",
                    f"Phần thông tin đầu tệp “{name}” (giữa hai dòng ---) dài",
                    size,
                    limits.max_front_matter_bytes,
                    "byte",
                    "Phần giữa hai dòng --- chỉ nên gồm vài dòng (tiêu đề, chủ đề, "
                    "kênh, thời điểm đăng…); hãy đưa nội dung vào thân bài.",
                )
            return _read(text[first_end + 1 : pos], name), text[end:]
        size += len(line.encode("utf-8", "surrogatepass"))
        pos = end
    return {}, text  # no closing line: the dashes were a horizontal rule
