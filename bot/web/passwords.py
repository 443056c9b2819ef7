"""Password hashing for web accounts: Argon2id with argon2-cffi's recommended parameters."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["MIN_LENGTH", "check_new_password", "hash_password", "verify_password"]

MIN_LENGTH = 10
_HASHER = PasswordHasher()
# Compared against when the account does not exist, so a wrong name costs the same time.
_DUMMY = _HASHER.hash("loa-no-such-account")


def check_new_password(password: str) -> None:
    """Refuse a password too short to stand a guessing attack (ValueError, in Vietnamese)."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"Mật khẩu cần ít nhất {MIN_LENGTH} ký tự.")
    if len(password) > 1024:
        raise ValueError("Mật khẩu quá dài (tối đa 1024 ký tự).")


def hash_password(password: str) -> str:
    check_new_password(password)
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> tuple[bool, str | None]:
    """Whether ``password`` matches; the second value is a fresh hash when parameters changed."""
    if len(password) > 1024:
        return False, None
    try:
        _HASHER.verify(stored or _DUMMY, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if stored is None:
        return False, None
    return True, _HASHER.hash(password) if _HASHER.check_needs_rehash(stored) else None
