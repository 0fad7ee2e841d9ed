"""Secrets never appear in repr, str, log records or formatted messages."""

from __future__ import annotations

import logging
import pickle

import msgspec
import pytest

from tradewire.protocol import MASK, Command, RedactingFilter, Secret, reveal
from tradewire.protocol._secrets import enc_hook

TOKEN = "1582628593469.1MbQ-J_4.CBP-secret-token"


class Auth(Command, frozen=True, kw_only=True):
    client_id: str
    client_secret: Secret


def test_secret_hides_in_repr_str_format_and_containers() -> None:
    secret = Secret(TOKEN)
    command = Auth(client_id="fo7WAPRm4P", client_secret=secret)
    texts = (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr(command), str([secret]))
    for text in texts:
        assert TOKEN not in text
    assert "fo7WAPRm4P" in repr(command)
    assert secret.reveal() == TOKEN == reveal(secret) == reveal(TOKEN)
    assert Secret(secret) == secret != Secret("other")


def test_secret_is_encoded_only_on_purpose() -> None:
    command = Auth(client_id="id", client_secret=Secret(TOKEN))
    with pytest.raises(TypeError):
        msgspec.json.encode(command)
    assert TOKEN.encode() in msgspec.json.encode(command, enc_hook=enc_hook)
    with pytest.raises(TypeError):
        pickle.dumps(Secret(TOKEN))


def test_redacting_filter_scrubs_messages_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tradewire.tests.secrets")
    redactor = RedactingFilter([Secret(TOKEN)])
    logger.addFilter(redactor)
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("sent %s", f'{{"params":{{"access_token":"{TOKEN}"}}}}')
            logger.info("raw " + TOKEN)
            redactor.add("fresh-refresh-token")
            logger.info("refreshed with fresh-refresh-token")
            try:
                raise ValueError(f"bad token {TOKEN}")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.removeFilter(redactor)
    text = caplog.text
    assert TOKEN not in text
    assert "fresh-refresh-token" not in text
    assert text.count(MASK) >= 4
