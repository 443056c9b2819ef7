"""Default covers: a local ``default_cover`` file is uploaded once to the website's media library.

Its public URL (and the file's SHA-256) is remembered in the channel's durable store, so the
upload happens again only when the file changes. Zalo fetches covers by URL (jpg/png, at most
1 MB), which is why a local file must first be published on the department's own website.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from bot.context import Loa
from bot.wording import vi_number
from channels.base import ChannelError, ImageRef
from channels.capabilities import DefaultCoverSettings, UploadsImages, UsesDefaultCover

__all__ = ["MAX_COVER_BYTES", "ensure_default_covers"]

log = logging.getLogger(__name__)

MAX_COVER_BYTES = 1024 * 1024
_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


def _local_cover(path: Path) -> tuple[ImageRef | None, str | None]:
    """The file as an image reference, or why Zalo could not use it (Vietnamese)."""
    try:
        size = path.stat().st_size
    except OSError:
        return None, f"Không tìm thấy tệp ảnh bìa mặc định {path}."
    if size > MAX_COVER_BYTES:
        mb = vi_number(size / 1048576)
        return None, f"Ảnh bìa mặc định {path.name} nặng {mb} MB, vượt giới hạn 1 MB của Zalo."
    try:
        with Image.open(path) as im:
            kind, width, height = im.format, im.width, im.height
    except (UnidentifiedImageError, OSError):
        return None, f"Tệp ảnh bìa mặc định {path.name} không phải ảnh đọc được."
    if kind not in _TYPES:
        return None, f"Ảnh bìa mặc định {path.name} là ảnh {kind}; Zalo chỉ nhận JPG hoặc PNG."
    return ImageRef(str(path), _TYPES[kind], width, height, size, caption=""), None


def ensure_default_covers(loa: Loa) -> dict[str, str]:
    """Upload each channel's ``default_cover`` file if needed; channel → problem (only failures)."""
    problems: dict[str, str] = {}
    for name, s in loa.settings.enabled_channels().items():
        if not isinstance(s, DefaultCoverSettings):
            continue
        configured = s.default_cover
        if not configured or s.default_cover_url:
            continue
        channel = loa.channel(name)
        if not isinstance(channel, UsesDefaultCover):
            continue
        image, problem = _local_cover(loa.settings.path(configured))
        if image is None:
            problems[name] = problem or ""
            continue
        digest = hashlib.sha256(Path(image.path).read_bytes()).hexdigest()
        stored = channel.remembered_default_cover()
        if (
            stored.get("path") == configured
            and stored.get("sha256") == digest
            and stored.get("url")
        ):
            continue
        website = s.after or next(
            (n for n, c in loa.settings.enabled_channels().items() if c.type == "wordpress"), None
        )
        uploader = loa.channel(website) if website else None
        if not isinstance(uploader, UploadsImages):
            problems[name] = (
                "Ảnh bìa mặc định là tệp trên máy nhưng không có kênh website để tải "
                "lên; hãy khai báo default_cover_url (địa chỉ ảnh công khai)."
            )
            continue
        try:
            url = uploader.upload_image(image)
        except ChannelError as exc:
            problems[name] = f"Chưa tải được ảnh bìa mặc định lên website: {exc.message}"
            continue
        channel.remember_default_cover(configured, digest, url)
        log.info("default cover of %s uploaded to the website: %s", name, url)
    return problems
