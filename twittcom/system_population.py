"""The population file a system under test imports (``docs/plan-your-own-processor.md``).

The harness seeds the same directory at the fakes (every number's handset at fake SMS, in its
circle) and writes it here for the system, with the packs on sale, so the system's operator data
and the load test's journeys agree. JSON, one document::

    {"operator": {"handle": "tatadocomo"},
     "subscribers": [{"msisdn": "+919812345678", "circle": "MU", "balance_paise": 12000,
                      "active": true, "prepaid": true}, ...],
     "packs": [{"hashtag": "STV49", "circle": "MU", "price_paise": 4900, "pack_id": "stv49",
                "name": "...", "validity_days": 1}, ...]}

``subscribers.csv`` and ``packs.csv`` beside it hold the same rows for systems that import CSV.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from reference.population import build_population
from scenario import Scenario
from twittcom.catalog_everywhere import catalog_in_all_circles
from twittcom.live_scenario import live_settings

__all__ = ["SUBSCRIBER_FIELDS", "PACK_FIELDS", "write_population"]

SUBSCRIBER_FIELDS = ("msisdn", "circle", "balance_paise", "active", "prepaid")
PACK_FIELDS = ("hashtag", "circle", "price_paise", "pack_id", "name", "validity_days")


def population_document(scenario: Scenario, size: int, operator: str, seed: int = 0) -> dict[str, Any]:
    """The directory (``size`` numbers over the scenario's circles) and the packs sold in each."""
    live = live_settings(scenario, processor="external")
    circles = tuple(code for code, _ in live.circle_shares)
    weights = tuple(share for _, share in live.circle_shares)
    population = build_population(size, seed=seed, circles=circles, weights=weights)
    subscribers = [
        {
            "msisdn": s.msisdn,
            "circle": s.circle,
            "balance_paise": s.balance_paise,
            "active": s.active,
            "prepaid": s.prepaid,
        }
        for s in population.subscribers
    ]
    packs = [
        {
            "hashtag": p.hashtag,
            "circle": p.circle,
            "price_paise": p.price_paise,
            "pack_id": p.pack_id,
            "name": p.name,
            "validity_days": p.validity_days,
        }
        for p in catalog_in_all_circles()
        if p.circle in circles
    ]
    return {"operator": {"handle": operator}, "subscribers": subscribers, "packs": packs}


def write_population(document: dict[str, Any], directory: Path) -> Path:
    """Write ``population.json`` (and the two CSV files) under ``directory``; return the JSON's path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "population.json"
    path.write_text(json.dumps(document, indent=1))
    for name, fields, rows in (
        ("subscribers.csv", SUBSCRIBER_FIELDS, document["subscribers"]),
        ("packs.csv", PACK_FIELDS, document["packs"]),
    ):
        with open(directory / name, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(fields))
            writer.writeheader()
            writer.writerows({k: row[k] for k in fields} for row in rows)
    return path
