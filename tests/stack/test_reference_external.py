"""examples/reference_external.py: the bundled reference as a system under test sells the packs of
the population file it is handed (the sample catalog's packs in every circle, as the harness sells
them), not only the sample catalog's 12 circles: a verification storm of the reference found
1,088 of 5,200 buys answered "we do not know the pack #XSTV5DL" before it did."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from reference.domain.catalog import default_catalog_path, load_catalog

ROOT = Path(__file__).resolve().parents[2]


def _launcher():
    spec = importlib.util.spec_from_file_location(
        "reference_external", ROOT / "examples" / "reference_external.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_population_files_packs_become_the_references_catalog(tmp_path):
    packs = [
        {"hashtag": "TD11DEL", "circle": "DL", "price_paise": 1100, "pack_id": "stv11",
         "name": "Rs 11 Local Night STV", "validity_days": 1},
        {"hashtag": "XSTV5DL", "circle": "DL", "price_paise": 500, "pack_id": "stv5",
         "name": "Rs 5 SMS Pack", "validity_days": 1},
        {"hashtag": "XSTV5MU", "circle": "MU", "price_paise": 500, "pack_id": "stv5",
         "name": "Rs 5 SMS Pack", "validity_days": 1},
        {"hashtag": "ZZ1DL", "circle": "DL", "price_paise": 123, "pack_id": "own-pack",
         "name": "A \"quoted\" pack", "validity_days": 3},
    ]  # fmt: skip
    catalog = load_catalog(_launcher().write_catalog(packs, tmp_path / "catalog.toml"))
    sold = {(p.hashtag, p.circle, p.price_paise, p.validity_days) for p in catalog}
    assert sold == {("TD11DEL", "DL", 1100, 1), ("XSTV5DL", "DL", 500, 1), ("XSTV5MU", "MU", 500, 1),
                    ("ZZ1DL", "DL", 123, 3)}  # fmt: skip
    sample = {p.pack_id: p for p in load_catalog(default_catalog_path())}
    by_id = {p.pack_id: p for p in catalog}
    assert by_id["stv5"].kind == sample["stv5"].kind and by_id["stv5"].benefit == sample["stv5"].benefit
    assert by_id["own-pack"].kind == "stv" and by_id["own-pack"].name == 'A "quoted" pack'
