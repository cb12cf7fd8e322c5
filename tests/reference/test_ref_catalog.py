"""The pack catalog: TOML format, validation errors and lookups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reference.domain.catalog import Catalog, load_catalog, parse_catalog
from reference.domain.circles import CIRCLES
from reference.domain.errors import CatalogError


def _pack(**overrides: Any) -> dict[str, Any]:
    pack = {
        "id": "stv49",
        "name": "Rs 49 STV",
        "kind": "stv",
        "price_paise": 4900,
        "validity_days": 28,
        "benefit": "Local calls",
        "hashtags": {"DL": "TD49DEL"},
    }
    pack.update(overrides)
    return pack


def test_there_are_22_circles() -> None:
    """The circle table lists the 22 licence service areas."""
    assert len(CIRCLES) == 22


def test_sample_catalog_loads(catalog: Catalog) -> None:
    """The shipped catalog validates and has STV and data packs in several circles."""
    assert len(catalog.circles()) >= 5
    kinds = {pack.kind for pack in catalog}
    assert kinds == {"stv", "data"}
    assert catalog.find("DL", "td49del") is not None


def test_lookup_is_case_insensitive_and_per_circle(catalog: Catalog) -> None:
    """A hashtag names a pack only in its circle; other circles are reported."""
    pack = catalog.find("DL", "TD49DEL")
    assert pack is not None and pack.circle == "DL" and pack.price_paise == 4900
    assert catalog.find("MU", "TD49DEL") is None
    assert catalog.circles_selling("td49del") == ["DL"]
    prices = [p.price_paise for p in catalog.packs_in("DL")]
    assert prices == sorted(prices)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"version": 2, "pack": [_pack()]}, "version"),
        ({"version": 1, "pack": []}, "at least one"),
        ({"version": 1, "pack": [_pack(hashtags={"ZZ": "TD49"})]}, "unknown circle"),
        ({"version": 1, "pack": [_pack(price_paise=49.5)]}, "price_paise must be an integer"),
        ({"version": 1, "pack": [_pack(price_paise="4900")]}, "price_paise must be an integer"),
        ({"version": 1, "pack": [_pack(price_paise=True)]}, "price_paise must be an integer"),
        ({"version": 1, "pack": [_pack(price_paise=-100)]}, "price_paise must be positive"),
        ({"version": 1, "pack": [_pack(validity_days=0)]}, "validity_days must be positive"),
        ({"version": 1, "pack": [_pack(kind="combo")]}, "kind must be"),
        ({"version": 1, "pack": [_pack(hashtags={"DL": "49 DEL"})]}, "not a valid hashtag"),
        ({"version": 1, "pack": [_pack(hashtags={"DL": "act"})]}, "command keyword"),
        ({"version": 1, "pack": [_pack(hashtags={})]}, "hashtags must be"),
        ({"version": 1, "pack": [_pack(colour="red")]}, "unknown field"),
        ({"version": 1, "pack": [_pack(name="")]}, "name must be"),
        ({"version": 1, "pack": [_pack(name="See tatadocomo.com")]}, "URLs"),
        ({"version": 1, "pack": [_pack(), _pack()]}, "duplicate pack id"),
        (
            {"version": 1, "pack": [_pack(), _pack(id="other", hashtags={"DL": "td49del"})]},
            "duplicate hashtag #td49del in circle DL",
        ),
    ],
)
def test_validation_errors_are_clear(document: dict[str, Any], message: str) -> None:
    """Each malformed catalog raises CatalogError naming the problem."""
    with pytest.raises(CatalogError, match=message):
        parse_catalog(document)


def test_same_hashtag_in_two_circles_is_allowed() -> None:
    """Hashtags must be unique within a circle, not across circles."""
    catalog = parse_catalog({"version": 1, "pack": [_pack(), _pack(id="b", hashtags={"MU": "TD49DEL"})]})
    assert catalog.circles_selling("TD49DEL") == ["DL", "MU"]


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    """A TOML syntax error is a CatalogError that names the file."""
    path = tmp_path / "bad.toml"
    path.write_text("version = = 1\n")
    with pytest.raises(CatalogError, match="bad.toml"):
        load_catalog(path)
