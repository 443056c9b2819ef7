"""Encryption of stored channel credentials with the key(s) in ``LOA_SECRET_KEY``.

``LOA_SECRET_KEY`` holds one or more Fernet keys separated by commas, newest first. Values are
encrypted with the first key and decrypted with any of them (``MultiFernet``), so a key is
rotated by putting the new key in front (``LOA_SECRET_KEY="new,old"``), running
``loa secrets rotate`` (every stored row is re-encrypted with the new key), then dropping the old
key. A stored row is a JSON object ``{"fernet": "<token>"}``; a row written by an older Loa (a
plain JSON object) is still read and is encrypted on its next save or by ``loa secrets rotate``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = [
    "ENCRYPTED_KEY",
    "ENV_VAR",
    "CredentialCipher",
    "url_password",
    "SecretKeyError",
    "generate_key",
    "is_encrypted",
]

ENV_VAR = "LOA_SECRET_KEY"
# The one key of an encrypted row; a plaintext row of an older version never has it.
ENCRYPTED_KEY = "fernet"


class SecretKeyError(Exception):
    """The key is missing, malformed or does not open the stored credentials (message: Vietnamese)."""


def generate_key() -> str:
    """A new random key (32 bytes, URL-safe base64) for ``LOA_SECRET_KEY``."""
    return Fernet.generate_key().decode("ascii")


def is_encrypted(stored: Any) -> bool:
    """Whether a stored ``credentials`` value is an encrypted row (not an older plaintext one)."""
    return isinstance(stored, dict) and set(stored) == {ENCRYPTED_KEY}


class CredentialCipher:
    """Encrypts credential dicts with the first key, decrypts with any configured key."""

    def __init__(self, keys: str):
        parts = [k.strip() for k in keys.replace("\n", ",").split(",") if k.strip()]
        if not parts:
            raise SecretKeyError(
                f"Thiếu khóa mã hóa {ENV_VAR} (chạy `loa init` để tạo khóa vào .env)."
            )
        fernets = []
        for position, key in enumerate(parts, 1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                raise SecretKeyError(
                    f"Khóa thứ {position} trong {ENV_VAR} không hợp lệ (cần 44 ký tự base64 do "
                    "`loa init` hoặc `loa secrets new-key` tạo ra)."
                ) from None
        self._first = fernets[0]
        self._multi = MultiFernet(fernets)
        self.key_count = len(fernets)

    def __repr__(self) -> str:  # never show a key
        return f"CredentialCipher(keys={self.key_count})"

    @classmethod
    def from_environment(cls) -> CredentialCipher | None:
        """The cipher of ``LOA_SECRET_KEY`` in the process environment, None when it is unset."""
        value = os.environ.get(ENV_VAR, "")
        return cls(value) if value.strip() else None

    def seal(self, values: dict[str, Any]) -> dict[str, str]:
        """The stored form of ``values``: ``{"fernet": token}`` (encrypted with the first key)."""
        raw = json.dumps(values, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return {ENCRYPTED_KEY: self._multi.encrypt(raw).decode("ascii")}

    def open(self, stored: dict[str, Any], channel: str) -> dict[str, Any]:
        """The credentials of a stored row (plaintext rows of older versions pass through)."""
        if not is_encrypted(stored):
            return dict(stored)
        try:
            raw = self._multi.decrypt(str(stored[ENCRYPTED_KEY]).encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise SecretKeyError(
                f"Khóa {ENV_VAR} không mở được thông tin đăng nhập đã lưu của kênh {channel}: khóa "
                "sai hoặc đã bị thay. Hãy đặt lại khóa cũ (có thể ghi “khóa_mới,khóa_cũ”) hoặc "
                f"kết nối lại: loa channels connect {channel}."
            ) from None
        value = json.loads(raw.decode("utf-8"))
        return dict(value) if isinstance(value, dict) else {}

    def needs_rotation(self, stored: dict[str, Any]) -> bool:
        """Whether the row is plaintext or was encrypted with a key other than the first."""
        if not is_encrypted(stored):
            return bool(stored)
        token = str(stored[ENCRYPTED_KEY]).encode("ascii")
        try:
            self._first.decrypt(token)
        except InvalidToken:
            return True
        return False


def url_password(url: str) -> str | None:
    """The password in a database URL (a secret to mask in logs), or None."""
    try:
        password = make_url(url).password
    except ArgumentError:
        return None
    return str(password) if password else None
