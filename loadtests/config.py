"""What one load run needs to know, passed from ``twittcom loadtest`` to every locust process.

The configuration travels as JSON in the ``TWITTCOM_LOADTEST_CONFIG`` environment variable, which
locust's ``--processes`` workers inherit by fork and locally started ``--worker`` processes inherit
from their parent, so master and workers always agree on the scenario, seed and URLs.

Without a processor URL the run is in *stand-in* mode: the load generator itself puts each code
SMS (and each purchase confirmation) through the fake SMS gateway's Twilio API, so only the fakes
and the generator are exercised (used by the generator-capacity benchmark and the fast tests).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["CONFIG_ENV", "LoadtestConfig", "parse_against"]

CONFIG_ENV = "TWITTCOM_LOADTEST_CONFIG"

#: the fake SMS gateway's documented local defaults (fake_sms/README.md)
DEFAULT_SMS_ACCOUNT = "AC0123456789abcdef0123456789abcdef"
DEFAULT_SMS_TOKEN = "c0ffee00c0ffee00c0ffee00c0ffee00"  # noqa: S105 - the fake's public local default
DEFAULT_SMS_FROM = "54321"


@dataclass(frozen=True)
class LoadtestConfig:
    """One run's settings; ``processor_url`` empty means stand-in mode (fakes only).

    ``extra["users"]`` (``{"reg": 100, ...}``) fixes the users per traffic kind instead of sizing
    them from the scenario (the capacity benchmark uses it to saturate one generator process).
    ``preregister`` accounts (split over workers) are registered during a warm-up of at most
    ``preregister_s`` before the first scheduled start, so repeat and DM buyers have registered
    users from the start, as the scenario's ``registered_share`` assumes; the warm-up is not measured.
    ``outages`` are ``(circle as the SMS fake knows it, start_s, end_s)`` from the first scheduled
    start: the run takes those circles' SMS down at the fake, as the scenario's carrier outages say.
    ``x_limits`` (fake X's rate-limit table, route key -> limits) is set at fake X at the first
    scheduled start, so the scenario's read limits and write budget open their windows with the
    arrivals, as in the simulator (the warm-up spends none of them).
    """

    scenario_path: str
    x_url: str
    sms_url: str
    processor_url: str = ""
    overrides: tuple[str, ...] = ()
    admin_token: str = ""
    operator_handle: str = "tatadocomo"
    sms_account_sid: str = DEFAULT_SMS_ACCOUNT
    sms_auth_token: str = DEFAULT_SMS_TOKEN
    sms_from: str = DEFAULT_SMS_FROM
    duration_s: float = 0.0
    drain_s: float = -1.0
    workers: int = 1
    poll_interval_s: float = 0.25
    #: the longest one handset long-poll parks at the SMS fake (0: poll every ``poll_interval_s``)
    handset_wait_s: float = 10.0
    confirm_timeout_s: float = 60.0
    tolerance_s: float = 1.0
    headroom: float = 2.0
    thresholds: tuple[str, ...] = ()
    summary_path: str = ""
    population_file: str = ""
    population_limit: int = 5000
    preregister: int = 0
    outages: tuple[tuple[str, float, float], ...] = ()
    preregister_s: float = 20.0
    seed: int | None = None
    run_tag: str = "run"
    x_limits: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def stand_in(self) -> bool:
        """True when no processor is driven: the generator sends the processor's SMS itself."""
        return not self.processor_url

    def to_json(self) -> str:
        """Serialise for the environment variable."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> LoadtestConfig:
        """Parse :meth:`to_json` output (unknown keys are rejected)."""
        raw = json.loads(text)
        names = {f.name for f in fields(cls)}
        unknown = set(raw) - names
        if unknown:
            raise ValueError(f"unknown load-test settings: {sorted(unknown)}")
        for key in ("overrides", "thresholds"):
            if key in raw:
                raw[key] = tuple(raw[key])
        if "outages" in raw:
            raw["outages"] = tuple((str(c), float(a), float(b)) for c, a, b in raw["outages"])
        return cls(**raw)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> LoadtestConfig:
        """Read the configuration a ``twittcom loadtest`` parent put in the environment."""
        env = os.environ if environ is None else environ
        text = env.get(CONFIG_ENV)
        if not text:
            raise RuntimeError(
                f"{CONFIG_ENV} is not set: start load runs with `twittcom loadtest SCENARIO.toml`, "
                "or export the JSON of loadtests.config.LoadtestConfig"
            )
        return cls.from_json(text)


def parse_against(text: str) -> dict[str, str]:
    """``x=http://..,sms=http://..,processor=http://..`` -> ``{"x": ..., "sms": ..., "processor": ...}``."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, url = part.partition("=")
        name = name.strip().lower()
        if (
            not sep
            or name not in ("x", "sms", "processor")
            or not url.strip().startswith(("http://", "https://"))
        ):
            raise ValueError(
                f"bad --against part {part!r}: expected x=URL, sms=URL and processor=URL separated by commas"
            )
        out[name] = url.strip().rstrip("/")
    missing = {"x", "sms"} - set(out)
    if missing:
        raise ValueError(f"--against needs at least x= and sms= URLs (missing {', '.join(sorted(missing))})")
    return out
