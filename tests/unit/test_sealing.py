import pytest

from portal.sealing import MAX_SEALED_LENGTH, Sealer

OLD, NEW = "o" * 40, "n" * 40


def test_round_trip_keeps_the_payload_and_adds_expiry():
    sealer = Sealer((NEW,), "session")
    opened = sealer.open(sealer.seal({"sub": "alice@example.com"}, 60, now=1000), now=1010)
    assert opened == {"sub": "alice@example.com", "exp": 1060}


def test_value_is_encrypted_not_just_signed():
    sealed = Sealer((NEW,), "session").seal({"sub": "alice@example.com"}, 60)
    assert "alice" not in sealed


def test_expired_value_does_not_open():
    sealer = Sealer((NEW,), "session")
    assert sealer.open(sealer.seal({"a": 1}, 60, now=1000), now=1061) is None


@pytest.mark.parametrize("mangle", [
    lambda s: s[:-4],
    lambda s: s[:10],
    lambda s: s[:20] + ("A" if s[20] != "A" else "B") + s[21:],
    lambda s: s + "x",
    lambda s: "",
    lambda s: "not base64 at all!!",
    lambda s: "é" * 50,
])
def test_tampered_or_truncated_values_do_not_open(mangle):
    sealer = Sealer((NEW,), "session")
    assert sealer.open(mangle(sealer.seal({"a": 1}, 60))) is None


def test_value_sealed_for_another_purpose_does_not_open():
    transaction = Sealer((NEW,), "transaction").seal({"state": "s"}, 60)
    assert Sealer((NEW,), "session").open(transaction) is None


def test_value_from_another_deployments_key_does_not_open():
    assert Sealer((NEW,), "session").open(Sealer(("x" * 40,), "session").seal({"a": 1}, 60)) is None


def test_rotation_older_listed_secret_still_opens_and_new_values_use_the_newest():
    old_value = Sealer((OLD,), "session").seal({"a": 1}, 60)
    rotated = Sealer((NEW, OLD), "session")
    assert rotated.open(old_value)["a"] == 1
    new_value = rotated.seal({"a": 2}, 60)
    assert Sealer((NEW,), "session").open(new_value)["a"] == 2
    assert Sealer((OLD,), "session").open(new_value) is None


def test_huge_values_are_refused_before_decryption():
    assert Sealer((NEW,), "session").open("A" * (MAX_SEALED_LENGTH + 1)) is None


def test_each_seal_uses_a_fresh_nonce():
    sealer = Sealer((NEW,), "session")
    assert sealer.seal({"a": 1}, 60, now=1000) != sealer.seal({"a": 1}, 60, now=1000)


def test_unknown_format_byte_does_not_open():
    import base64

    sealer = Sealer((NEW,), "session")
    raw = bytearray(base64.urlsafe_b64decode(sealer.seal({"a": 1}, 60) + "=="))
    raw[0] ^= 0xFF
    assert sealer.open(base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()) is None


def test_only_the_one_canonical_spelling_opens():
    sealer = Sealer((NEW,), "session")
    sealed = sealer.seal({"a": 1}, 60)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    respelled = [sealed[:-1] + other for other in alphabet if other != sealed[-1]]
    assert sealer.open(sealed) is not None
    assert [value for value in respelled if sealer.open(value) is not None] == []
    assert sealer.open(sealed + "\n") is None
    assert sealer.open(sealed + "=" * (-len(sealed) % 4 or 4)) is None


@pytest.mark.parametrize("value", ["AAAA", "A" * 39, "A=" * 20, "a.b.c"])
def test_short_padded_or_foreign_shaped_values_do_not_open(value):
    assert Sealer((NEW,), "session").open(value) is None
