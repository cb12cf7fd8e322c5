"""``storm --against``: the fakes served for a system under test, its population file, its start."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from scenario import load_scenario
from scenario.schema import merge_over_defaults
from twittcom.against import EXTERNAL, Against, against_stack, parse_against_spec
from twittcom.calibrate_run import toml_text
from twittcom.live_stack import StackStartError

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "examples" / "tiny-low.toml"

#: a minimal system: reads its mentions once with the token it was given, then waits to be stopped
READS_ONCE = (
    "import os, time, urllib.request; e = os.environ; "
    "r = urllib.request.Request(e['TWITTCOM_X_URL'] + '/2/users/' + e['TWITTCOM_OPERATOR_ID'] + '/mentions', "
    "headers=dict(authorization='Bearer ' + e['TWITTCOM_OPERATOR_TOKEN'])); "
    "urllib.request.urlopen(r).read(); time.sleep(60)"
)


def test_the_system_gets_the_fakes_its_credentials_and_a_population_it_can_import(tmp_path):
    scenario = load_scenario(SCENARIO)
    template = f"{sys.executable} -c {json.dumps(READS_ONCE)} --population {{population}} --w {{workers}}"
    with against_stack(scenario, 300, Against(command=template), tmp_path) as urls:
        assert urls.processor == EXTERNAL
        document = json.loads(Path(urls.population_file).read_text())
        assert 250 < len(document["subscribers"]) <= 300 and document["packs"]  # off-network ones left out
        assert {s["circle"] for s in document["subscribers"]} <= {"MU", "DL"}
        number = document["subscribers"][0]["msisdn"]
        handset = httpx.get(f"{urls.sms}/_fake/handsets/{number}/messages")
        assert handset.status_code == 200  # the harness registered every number's handset at fake SMS
        reads = httpx.get(f"{urls.x}/_fake/reads").json()["data"]
        assert reads and reads[0]["user_id"] == document["operator"]["user_id"]
    assert (tmp_path / "subscribers.csv").read_text().startswith("msisdn,circle,balance_paise")


def test_a_system_that_dies_at_start_is_reported_with_its_output(tmp_path):
    template = f"{sys.executable} -c \"print('no config'); raise SystemExit(3)\""
    with pytest.raises(StackStartError, match="exited with code 3.*no config"):
        with against_stack(load_scenario(SCENARIO), 50, Against(command=template), tmp_path):
            pass


def test_against_spec_is_a_template_or_running_urls():
    assert parse_against_spec("python my.py --x {x_url}").command == "python my.py --x {x_url}"
    running = parse_against_spec("x=http://127.0.0.1:1,sms=http://127.0.0.1:2", "pop.json")
    assert (running.x_url, running.sms_url, running.population) == (
        "http://127.0.0.1:1",
        "http://127.0.0.1:2",
        "pop.json",
    )
    with pytest.raises(ValueError, match="needs --population"):
        parse_against_spec("x=http://127.0.0.1:1,sms=http://127.0.0.1:2")
    with pytest.raises(ValueError, match="unknown placeholders"):
        parse_against_spec("python my.py --x {x_ulr}")


@pytest.mark.parametrize("name", ["outage-storm", "pool-dm-rush", "ci-smoke"])
def test_a_calibrated_scenario_is_written_as_toml_that_reads_back(name):
    document = tomllib.loads((ROOT / "scenarios" / f"{name}.toml").read_text())
    document.setdefault("name", name)
    resolved = merge_over_defaults(document)
    assert tomllib.loads(toml_text(resolved)) == resolved


def test_a_running_system_is_reached_at_its_urls_with_its_population(tmp_path):
    spec = parse_against_spec("x=http://127.0.0.1:9,sms=http://127.0.0.1:10", str(tmp_path / "pop.json"))
    with against_stack(load_scenario(SCENARIO), 100, spec, tmp_path) as urls:
        assert (urls.x, urls.sms, urls.processor) == ("http://127.0.0.1:9", "http://127.0.0.1:10", EXTERNAL)
        assert urls.population_file == str(tmp_path / "pop.json")
    assert not (tmp_path / "population.json").exists()  # nothing is served or written for it
