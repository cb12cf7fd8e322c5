"""The pack catalog: packs with one hashtag per pack per circle, loaded from a TOML file.

File format (see ``reference/data/catalog.toml``)::

    version = 1

    [[pack]]
    id = "stv49"                  # unique id, [a-z0-9_-]
    name = "Rs 49 Local Calls STV"
    kind = "stv"                  # "stv" (special tariff voucher) or "data"
    price_paise = 4900            # integer paise, > 0
    validity_days = 28            # integer days, > 0
    benefit = "Local calls at 1p/2 sec"
    hashtags = { DL = "TD49DEL", MU = "TD49MUM" }   # circle code -> hashtag, unique per circle

Hashtags are letters, digits and underscores, start with a letter, at most 30 characters, and are
matched case-insensitively. A pack is on sale only in the circles its ``hashtags`` table names.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

import twitter_text
from reference.domain.circles import is_circle
from reference.domain.errors import CatalogError

__all__ = ["Catalog", "Pack", "PackKind", "default_catalog_path", "load_catalog", "parse_catalog"]

PackKind: TypeAlias = Literal["stv", "data"]
_HASHTAG = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,29}")
_PACK_ID = re.compile(r"[a-z0-9][a-z0-9_\-]{0,39}")
_FIELDS = {"id", "name", "kind", "price_paise", "validity_days", "benefit", "hashtags"}


@dataclass(frozen=True, slots=True)
class Pack:
    """A pack as sold in one circle (the same pack id may be sold in several circles)."""

    pack_id: str
    name: str
    kind: PackKind
    price_paise: int
    validity_days: int
    benefit: str
    circle: str
    hashtag: str


class Catalog:
    """Packs indexed by (circle, hashtag), case-insensitive."""

    __slots__ = ("_by_circle", "_by_key", "_circles_by_tag")

    def __init__(self, packs: Iterable[Pack]) -> None:
        self._by_key: dict[tuple[str, str], Pack] = {}
        self._by_circle: dict[str, list[Pack]] = {}
        self._circles_by_tag: dict[str, list[str]] = {}
        for pack in packs:
            key = (pack.circle, pack.hashtag.casefold())
            if key in self._by_key:
                raise CatalogError(f"duplicate hashtag #{pack.hashtag} in circle {pack.circle}")
            self._by_key[key] = pack
            self._by_circle.setdefault(pack.circle, []).append(pack)
            self._circles_by_tag.setdefault(key[1], []).append(pack.circle)

    def find(self, circle: str, hashtag: str) -> Pack | None:
        """The pack sold in ``circle`` under ``hashtag``, or ``None``."""
        return self._by_key.get((circle, hashtag.casefold()))

    def circles_selling(self, hashtag: str) -> list[str]:
        """The circles where ``hashtag`` names a pack (empty when it names none)."""
        return list(self._circles_by_tag.get(hashtag.casefold(), ()))

    def packs_in(self, circle: str) -> list[Pack]:
        """The packs on sale in ``circle``, cheapest first."""
        return sorted(self._by_circle.get(circle, ()), key=lambda p: (p.price_paise, p.hashtag))

    def circles(self) -> list[str]:
        """Circles with at least one pack, sorted."""
        return sorted(self._by_circle)

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Any:
        return iter(self._by_key.values())


def _positive_int(entry: Mapping[str, Any], field: str, where: str) -> int:
    value = entry.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatalogError(f"{where}: {field} must be an integer, got {value!r}")
    if value <= 0:
        raise CatalogError(f"{where}: {field} must be positive, got {value}")
    return value


def _text(entry: Mapping[str, Any], field: str, where: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: {field} must be a non-empty string")
    return value.strip()


def _packs_of(entry: Mapping[str, Any], index: int) -> list[Pack]:
    where = f"pack #{index + 1}"
    if not isinstance(entry, Mapping):
        raise CatalogError(f"{where}: must be a table")
    unknown = set(entry) - _FIELDS
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    pack_id = _text(entry, "id", where)
    if not _PACK_ID.fullmatch(pack_id):
        raise CatalogError(f"{where}: id {pack_id!r} must be lower-case letters, digits, '_' or '-'")
    where = f"pack {pack_id!r}"
    kind = entry.get("kind")
    if kind not in ("stv", "data"):
        raise CatalogError(f"{where}: kind must be 'stv' or 'data', got {kind!r}")
    name = _text(entry, "name", where)
    benefit = _text(entry, "benefit", where)
    if twitter_text.extract_urls(name) or twitter_text.extract_urls(benefit):
        raise CatalogError(f"{where}: name and benefit must not contain URLs (they go into reply tweets)")
    price = _positive_int(entry, "price_paise", where)
    validity = _positive_int(entry, "validity_days", where)
    hashtags = entry.get("hashtags")
    if not isinstance(hashtags, Mapping) or not hashtags:
        raise CatalogError(f"{where}: hashtags must be a non-empty table of circle = hashtag")
    packs = []
    for circle, tag in hashtags.items():
        if not is_circle(circle):
            raise CatalogError(f"{where}: unknown circle {circle!r} (use one of the 22 circle codes)")
        if not isinstance(tag, str) or not _HASHTAG.fullmatch(tag.lstrip("#")):
            raise CatalogError(f"{where}: hashtag {tag!r} for {circle} is not a valid hashtag")
        tag = tag.lstrip("#")
        if tag.casefold() in ("act", "reg", "code"):
            raise CatalogError(f"{where}: hashtag #{tag} is a command keyword")
        packs.append(Pack(pack_id, name, kind, price, validity, benefit, circle, tag))
    return packs


def parse_catalog(document: Mapping[str, Any]) -> Catalog:
    """Validate a decoded catalog document and index it; raises :class:`CatalogError`."""
    if document.get("version") != 1:
        raise CatalogError(f"catalog version must be 1, got {document.get('version')!r}")
    entries = document.get("pack")
    if not isinstance(entries, list) or not entries:
        raise CatalogError("catalog must contain at least one [[pack]] table")
    seen: set[str] = set()
    packs: list[Pack] = []
    for index, entry in enumerate(entries):
        circle_packs = _packs_of(entry, index)
        pack_id = circle_packs[0].pack_id
        if pack_id in seen:
            raise CatalogError(f"duplicate pack id {pack_id!r}")
        seen.add(pack_id)
        packs.extend(circle_packs)
    return Catalog(packs)


def load_catalog(path: str | Path) -> Catalog:
    """Read and validate a TOML catalog file."""
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return parse_catalog(document)
    except CatalogError as exc:
        raise CatalogError(f"{path}: {exc}") from exc


def default_catalog_path() -> Path:
    """The sample catalog shipped with the package."""
    return Path(__file__).resolve().parent.parent / "data" / "catalog.toml"
