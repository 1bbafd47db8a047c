"""Secrets at rest: Fernet encryption with key rotation, and keyed fingerprints.

Calendar addresses and passwords are bearer secrets (a private feed URL is as good as a
password), so the database keeps only ciphertext. SECRET_KEY holds one Fernet key or several,
comma-separated: the first encrypts, every one decrypts, so a new key is rolled in by putting it
first and dropping the old one once everything is re-encrypted.

Fingerprints let the database enforce "one link per address" without storing the address:
HMAC-SHA256 under a subkey derived from the first key. Rotating the first key therefore changes
every fingerprint; recompute them when re-encrypting.

Run ``python -m storage.secrets`` to print a new key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_MAKE_KEY = "python -m storage.secrets"
_FINGERPRINT_INFO = b"interview-bot secret fingerprint v1"


class SecretsUnavailable(Exception):
    """No key is configured, so secrets can be neither stored nor read."""

    def __init__(self) -> None:
        super().__init__(
            "SECRET_KEY is not set, so secrets cannot be encrypted or read. "
            f"Set SECRET_KEY to a Fernet key; make one with: {_MAKE_KEY}"
        )


class SecretsError(Exception):
    """A stored ciphertext that none of the configured keys can decrypt."""


def generate_key() -> str:
    """A new random Fernet key, in the text form SECRET_KEY takes."""
    return Fernet.generate_key().decode("ascii")


def _raw_key(text: str, position: int, count: int) -> bytes:
    where = "SECRET_KEY" if count == 1 else f"SECRET_KEY entry {position} of {count}"
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (UnicodeEncodeError, binascii.Error):
        raw = b""
    # The decoder skips stray characters; a key must be exactly its canonical spelling.
    if len(raw) != 32 or base64.urlsafe_b64encode(raw) != text.encode("ascii"):
        raise ValueError(
            f"{where} is not a Fernet key (32 bytes, url-safe base64); make one with: {_MAKE_KEY}"
        )
    return raw


class SecretBox:
    """Encrypts with the first configured key, decrypts with any, fingerprints with the first."""

    __slots__ = ("_fernet", "_fingerprint_key", "_count")

    def __init__(self, keys: str) -> None:
        texts = [part.strip() for part in keys.split(",") if part.strip()]
        if not texts:
            raise SecretsUnavailable()
        raws = [_raw_key(text, i, len(texts)) for i, text in enumerate(texts, start=1)]
        self._fernet = MultiFernet([Fernet(base64.urlsafe_b64encode(raw)) for raw in raws])
        self._fingerprint_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=_FINGERPRINT_INFO
        ).derive(raws[0])
        self._count = len(raws)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("utf-8")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretsError(
                "a stored secret cannot be decrypted with any SECRET_KEY configured "
                "(was a key removed while data encrypted with it remained?)"
            ) from None

    def fingerprint(self, plaintext: str) -> str:
        """A stable keyed hash (hex): equal secrets match, the secret itself is not stored."""
        digest = hmac.new(self._fingerprint_key, plaintext.encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()

    def __repr__(self) -> str:
        return f"<SecretBox with {self._count} key{'s' if self._count > 1 else ''}>"

    __str__ = __repr__


if __name__ == "__main__":
    print(generate_key())
