"""Request factories importable by dotted path, as the load generator's child process needs them."""

from __future__ import annotations

import json

from benchmarks.support import RequestSpec

__all__ = ["numbered_tweet", "tagged_tweet"]


def numbered_tweet(index: int) -> RequestSpec:
    """A POST to /bare whose JSON body is unique to the request index."""
    body = json.dumps({"text": f"#act #PACK50 number {index}"}).encode()
    return RequestSpec("POST", "/bare", (("Content-Type", "application/json"),), body)


def tagged_tweet(index: int, *, tag: str) -> RequestSpec:
    """Like numbered_tweet, with a hashtag bound by keyword (to test factory_kwargs)."""
    body = json.dumps({"text": f"#{tag} {index}"}).encode()
    return RequestSpec("POST", "/length", (("Content-Type", "application/json"),), body)
