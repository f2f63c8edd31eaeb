"""Where the consent page is, and what an admin may paste instead of a code."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.core import OAuthTokens
from integrations.amocrm import AmoOAuthError, TokenCipher, code_from_paste, consent_url_base


@pytest.mark.parametrize(
    ("base_url", "consent"),
    [
        ("https://acme.amocrm.ru", "https://www.amocrm.ru/oauth"),
        # Kommo's former name: the same platform, whose consent page is Kommo's.
        ("https://acme.amocrm.com/", "https://www.kommo.com/oauth"),
        ("https://ACME.kommo.com", "https://www.kommo.com/oauth"),
        ("http://127.0.0.1:8181", "http://127.0.0.1:8181/oauth"),
    ],
)
def test_the_consent_page_of_each_amocrm_family(base_url: str, consent: str) -> None:
    assert consent_url_base(base_url) == consent


def test_a_pasted_redirect_address_gives_its_code_and_account() -> None:
    pasted = " https://bridge.example/amocrm/oauth?code=def502&state=s&referer=acme.amocrm.ru "
    assert code_from_paste(pasted) == ("def502", "acme.amocrm.ru")
    assert code_from_paste("def50200abc\n") == ("def50200abc", None)


def test_a_sealed_pair_opens_with_the_key_and_after_a_rotation() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    pair = OAuthTokens(access_token="access-jwt", refresh_token="def502refresh", expires_at=10)
    sealed = TokenCipher([old]).seal(pair)
    assert "access-jwt" not in sealed.model_dump_json()
    assert "def502refresh" not in sealed.model_dump_json()
    assert sealed.expires_at == 10
    assert TokenCipher([old]).open(sealed) == pair
    rotated = TokenCipher([new, old])
    assert rotated.open(sealed) == pair
    assert TokenCipher([new]).open(rotated.seal(pair)) == pair
    with pytest.raises(AmoOAuthError, match="do not decrypt with AMOBRIDGE_SECRET_KEY"):
        TokenCipher([new]).open(sealed)
    # A pair saved before the key was set reads as it is.
    assert TokenCipher([new]).open(pair) == pair
    assert "keys=***" in repr(rotated)
