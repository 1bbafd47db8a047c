"""Secrets at rest: Fernet round trips, key rotation, keyed fingerprints, nothing leaked."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.secrets import SecretBox, SecretsError, SecretsUnavailable, generate_key

# Fixed test keys: parametrized ids must match across xdist workers.
OLD = "NN_z9SrsdOoJl_AtjJ_TS04VvDfs6C1Ggx7CkVMakqA="
NEW = "ijoUDJZA6rZnBVjjVXvkvh89wFUYTLwmbDfTPiKkGjg="
OTHER = "EdGRrmqzTmH9o0U3ZOSS9Qky-qQmE7fQ5mWj0jFp5BI="
SECRET = "https://calendar.example.com/private-7f3a9c/basic.ics"


@given(st.text())
def test_round_trip(plaintext: str) -> None:
    box = SecretBox(OLD)
    token = box.encrypt(plaintext)
    assert box.decrypt(token) == plaintext


def test_each_encryption_differs_but_the_fingerprint_is_stable() -> None:
    box = SecretBox(OLD)
    assert box.encrypt(SECRET) != box.encrypt(SECRET)
    assert "private-7f3a9c" not in box.encrypt(SECRET)
    assert box.fingerprint(SECRET) == SecretBox(OLD).fingerprint(SECRET)
    assert box.fingerprint(SECRET) != box.fingerprint(SECRET + "x")
    assert len(box.fingerprint(SECRET)) == 64 and int(box.fingerprint(SECRET), 16) >= 0
    assert SECRET not in box.fingerprint(SECRET)


def test_rotation_new_key_first_old_key_still_decrypts() -> None:
    stored = SecretBox(OLD).encrypt(SECRET)
    rotated = SecretBox(f"{NEW}, {OLD}")
    assert rotated.decrypt(stored) == SECRET
    fresh = rotated.encrypt(SECRET)
    assert SecretBox(NEW).decrypt(fresh) == SECRET  # the first key encrypts
    with pytest.raises(SecretsError):
        SecretBox(OLD).decrypt(fresh)


def test_fingerprints_come_from_the_first_key_only() -> None:
    """Documented: putting a new key first changes every fingerprint (recompute them)."""
    assert SecretBox(f"{OLD},{NEW}").fingerprint(SECRET) == SecretBox(OLD).fingerprint(SECRET)
    assert SecretBox(f"{NEW},{OLD}").fingerprint(SECRET) != SecretBox(OLD).fingerprint(SECRET)


def test_wrong_key_or_garbage_raises_secrets_error_without_the_secret() -> None:
    stored = SecretBox(OLD).encrypt(SECRET)
    for token in (stored, "not a token", stored[:-4], ""):
        with pytest.raises(SecretsError) as info:
            SecretBox(OTHER).decrypt(token)
        assert SECRET not in str(info.value) and stored not in str(info.value)
        assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize(
    "keys",
    [
        "short",
        OLD[:-2],
        OLD + "AAAA",
        OLD.replace("=", "!"),
        f"{OLD},{OLD[:10]}",
        "ä" * 44,
        "-" * 43 + "!",
    ],
    ids=[
        "short",
        "truncated",
        "too-long",
        "stray-character",
        "second-bad",
        "non-ascii",
        "bad-tail",
    ],
)
def test_malformed_keys_raise_a_one_line_value_error(keys: str) -> None:
    with pytest.raises(ValueError) as info:
        SecretBox(keys)
    message = str(info.value)
    assert "\n" not in message and "python -m storage.secrets" in message
    assert all(part.strip() not in message for part in keys.split(",") if len(part.strip()) > 4)


def test_the_bad_entry_is_named_by_position() -> None:
    with pytest.raises(ValueError, match="SECRET_KEY entry 2 of 2 is not a Fernet key"):
        SecretBox(f"{OLD},nope")


@pytest.mark.parametrize("keys", ["", "   ", " , "])
def test_no_key_means_unavailable_with_instructions(keys: str) -> None:
    with pytest.raises(SecretsUnavailable, match="SECRET_KEY") as info:
        SecretBox(keys)
    assert "python -m storage.secrets" in str(info.value)


def test_reprs_never_show_keys() -> None:
    box = SecretBox(f"{NEW},{OLD}")
    for text in (repr(box), str(box), f"{box}", f"{box!r}"):
        assert NEW not in text and OLD not in text
        assert NEW[:8] not in text and OLD[:8] not in text
    assert repr(box) == "<SecretBox with 2 keys>"
    assert not hasattr(box, "__dict__")  # nothing for vars() or a debugger dump to list


def test_generate_key_makes_distinct_usable_keys_and_the_module_prints_one() -> None:
    assert generate_key() != generate_key()
    SecretBox(generate_key())
    printed = subprocess.run(
        [sys.executable, "-m", "storage.secrets"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert SecretBox(printed).decrypt(SecretBox(printed).encrypt("x")) == "x"
