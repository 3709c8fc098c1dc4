"""Webhook settings: the path served is the URL's; a ``path`` that differs, or a secret token
Telegram would refuse, is a configuration error; webhook mode requires a URL and a secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import ConfigError, WebhookSettings, require_webhook


@pytest.mark.parametrize(("url", "path", "served"), [
    ("https://host", None, "/"), ("https://host/", None, "/"), ("https://host/some/path", None, "/some/path"),
    ("https://host/some/path/?x=1", None, "/some/path"), ("https://host/hook", "hook", "/hook"),
    ("https://host/a/b", "/a/b/", "/a/b"), (None, "telegram", "/telegram"),
])
def test_the_path_served_is_the_urls(url: str | None, path: str | None, served: str) -> None:
    assert WebhookSettings(url=url, path=path).served_path == served


def test_a_path_that_is_not_the_urls_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"differs from the path of webhook\.url"):
        WebhookSettings(url="https://host/some/path", path="telegram")


@pytest.mark.parametrize("secret", ["", "a b", "x" * 257, "ä", "a/b"])
def test_secret_tokens_telegram_refuses(secret: str) -> None:
    with pytest.raises(ValidationError, match="secret_token"):
        WebhookSettings(secret_token=secret)


def test_webhook_mode_requires_a_url_and_a_secret() -> None:
    with pytest.raises(ConfigError, match="public URL"):
        require_webhook(WebhookSettings(secret_token="s"))
    with pytest.raises(ConfigError, match="secret token"):
        require_webhook(WebhookSettings(url="https://host/hook"))
    assert require_webhook(WebhookSettings(url="https://host/hook", secret_token="A-z_09" * 40)) == "A-z_09" * 40
