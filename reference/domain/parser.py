"""Text of a tweet or DM -> :mod:`reference.domain.commands` command. Never raises.

Rules (case-insensitive):

* a tweet counts only when it mentions the operator's handle; a DM is addressed by construction;
* ``#reg <mobile>`` registers; the mobile is the text after the hashtag, as typed;
* ``#act`` plus a pack hashtag, in any order, with other words around, buys; the launch form
  ``#act# TD49DEL`` works too;
* ``#code 123456`` or a bare 6-digit number verifies;
* in DMs the keywords also work without ``#`` at the start: ``reg 98...``, ``act TD49DEL``,
  ``code 123456``; a tweet in the old DM syntax ``D @tatadocomo act TD49DEL`` counts as a DM;
* anything else is :class:`~reference.domain.commands.Noise`.

Hashtags and mentions come from the shared ``twitter_text`` library, so what counts as a hashtag
is what X counts as one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import twitter_text
from reference.domain.commands import Buy, Channel, Command, Noise, Register, Verify

__all__ = ["CommandParser", "KEYWORDS"]

#: the command hashtags/keywords; every other hashtag may be a pack hashtag
KEYWORDS = frozenset({"reg", "act", "code"})

_LAUNCH_ACT = re.compile(r"#act#\s*([A-Za-z0-9_]+)", re.IGNORECASE)
_DM_KEYWORD = re.compile(r"\s*#?(reg|act|code)\b[\s:#]*(.*)", re.IGNORECASE | re.DOTALL)
_MOBILE = re.compile(r"\+?[0-9][0-9 \-().]*[0-9]")
_REG_REST = re.compile(r"[#\uff03]reg(?![A-Za-z0-9_])(.*)", re.IGNORECASE | re.DOTALL)
_CODE_REST = re.compile(r"[#\uff03]code(?![A-Za-z0-9_])[\s:=#]*([0-9]*)", re.IGNORECASE)
_LEGACY_DM = re.compile(r"\s*dm?\s+[@\uff20]([A-Za-z0-9_]{1,20})\s+(.*)", re.IGNORECASE | re.DOTALL)
_SIX_DIGITS = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")
_DIGITS = re.compile(r"[0-9]+")
_WORD = re.compile(r"[A-Za-z0-9_]+")
_NOISE = Noise()


class CommandParser:
    """Parse inbound text for one operator handle (default ``tatadocomo``)."""

    __slots__ = ("_lead", "_operator", "parse")

    def __init__(self, operator_handle: str = "tatadocomo", *, cache_size: int = 4096) -> None:
        self._operator = operator_handle.lstrip("@").casefold()
        self._lead = f"@{self._operator} "
        # Parsing is pure and commands are immutable, so results are memoised: purchase tweets
        # repeat a lot ("@tatadocomo #act #TD49DEL"). cache_size=0 disables the cache.
        self.parse: Callable[[Channel, str], Command] = (
            functools.lru_cache(maxsize=cache_size)(self._parse) if cache_size else self._parse
        )

    @property
    def operator_handle(self) -> str:
        """The operator's handle, lower case, without ``@``."""
        return self._operator

    def _parse(self, channel: Channel, text: str) -> Command:
        """The command in ``text`` received on ``channel``; :class:`Noise` when there is none.

        Call it as ``parser.parse(channel, text)`` (memoised)."""
        if channel == "dm":
            return self._parse_dm(text)
        return self._parse_tweet(text)

    def _addressed(self, text: str) -> bool:
        operator = self._operator
        lead = self._lead
        # Fast path: "@operator " opening the text is a mention under twitter-text's rules
        # (start of text before, whitespace after); everything else asks twitter_text.
        if text[: len(lead)].casefold() == lead:
            return True
        if operator not in text.casefold():
            return False
        return any(m.value.casefold() == operator for m in twitter_text.extract_mentions_with_indices(text))

    def _parse_tweet(self, text: str) -> Command:
        if not self._addressed(text):
            return _NOISE
        legacy = _LEGACY_DM.match(text)
        if legacy is not None and legacy.group(1).casefold() == self._operator:
            return self._parse_dm(legacy.group(2))  # "D @operator keyword": the 2009 DM syntax
        return self._parse_hashtags(text)

    def _parse_dm(self, text: str) -> Command:
        command = self._parse_hashtags(text)
        if not isinstance(command, Noise):
            return command
        keyword = _DM_KEYWORD.match(text)
        if keyword is None:
            return _NOISE
        word, rest = keyword.group(1).lower(), keyword.group(2)
        if word == "reg":
            return Register(_mobile_in(rest))
        if word == "code":
            digits = _DIGITS.search(rest)
            return Verify(digits.group(0)) if digits else _NOISE
        pack = _WORD.search(rest)
        return Buy(pack.group(0).upper() if pack else None)

    def _parse_hashtags(self, text: str) -> Command:
        launch = _LAUNCH_ACT.search(text) if "#" in text else None
        if launch is not None:
            return Buy(launch.group(1).upper())
        entities = (
            twitter_text.extract_hashtags_with_indices(text) if ("#" in text or "\uff03" in text) else []
        )
        tags = [e.value.casefold() for e in entities]
        if "reg" in tags:
            rest = _REG_REST.search(text)
            return Register(_mobile_in(rest.group(1) if rest else ""))
        if "act" in tags:
            packs = [e.value.upper() for e in entities if e.value.casefold() not in KEYWORDS]
            return Buy(packs[0] if packs else None)
        if "code" in tags:
            code = _CODE_REST.search(text)
            return Verify(code.group(1)) if code and code.group(1) else _NOISE
        if not tags:
            bare = _SIX_DIGITS.findall(text)
            if len(bare) == 1:
                return Verify(bare[0])
        return _NOISE


def _mobile_in(rest: str) -> str:
    """The first phone-like run of characters in ``rest`` (else the text itself, cut short)."""
    found = _MOBILE.search(rest)
    return found.group(0) if found else rest.strip()[:32]
