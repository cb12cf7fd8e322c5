"""The sentences a simulate report opens with: the binding resource and the figure a planner acts on.

Every number comes from the run's summary (:func:`simulator.metrics.summarize`), nothing is a
template constant: the binding resource is the one with the highest load over the arrival window
(a station's peak offered load, a budget's peak share of its limit; a budget that ran out binds
before a station that kept up), and the planner's figure is the capacity that holds the busiest
stretch to :data:`TARGET` of the station's capacity.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TARGET", "binding_resource", "simulate_verdict"]

#: the peak load a planner aims at (the rest is headroom for variation)
TARGET = 0.8
_NAMES = {"workers": "the workers", "sms_sender": "the SMS sender"}
_UNITS = {"workers": "workers", "sms_sender": "msg/s"}


def _load(name: str, figures: dict[str, Any]) -> float:
    return float(figures["peak_offered"] if name in _NAMES else figures["peak"])


def binding_resource(utilisation: dict[str, Any]) -> str:
    """The name of the most loaded resource (a budget that ran out before a station that kept up)."""
    ran_out = [n for n, f in utilisation.items() if n not in _NAMES and f.get("ran_out_at_s") is not None]
    stations = [n for n in utilisation if n in _NAMES]
    saturated = [n for n in stations if _load(n, utilisation[n]) >= 1.0]
    pool = saturated or ran_out or list(utilisation)
    return max(pool, key=lambda n: _load(n, utilisation[n]))


def _seconds(value: float | None) -> str:
    return "beyond the run's end" if value is None else f"{value:.3g} s"


def _station_sentence(name: str, f: dict[str, Any], stages: dict[str, Any], binding: bool) -> str:
    queue = stages["worker_queue" if name == "workers" else "sms_queue"]
    lead = f"The binding resource is {_NAMES[name]}" if binding else f"The busiest station is {_NAMES[name]}"
    busiest = f"{f['peak_from_s']:g}-{f['peak_to_s']:g} s"
    text = (
        f"{lead} ({f['capacity']}): {f['peak_offered']:.0%} of its capacity was offered in its busiest "
        f"stretch ({busiest}) and it was {f['mean']:.0%} busy over the arrival window"
    )
    if queue["count"]:
        text += f"; codes waited up to {_seconds(queue['max'])} in its queue (p95 {_seconds(queue['p95'])})"
    needed = f["needed_for_80"]
    unit = _UNITS[name]
    if f["peak_offered"] > TARGET:
        text += f". Holding that stretch to {TARGET:.0%} takes {needed} {unit} (it has {f['capacity']})."
    else:
        text += f". {max(needed, 1)} {unit} would hold it to {TARGET:.0%} (it has {f['capacity']})."
    return text


def _budget_sentence(name: str, f: dict[str, Any], replies: dict[str, int]) -> str:
    asked = replies["posted"] + replies["dropped"]
    if f["ran_out_at_s"] is None:
        return (
            f"The most used resource is X's {name} budget ({f['capacity']}): at most {f['peak']:.0%} of "
            "its limit in one window; nothing ran out."
        )
    text = (
        f"The binding resource is X's {name} budget ({f['capacity']}): it ran out at {f['ran_out_at_s']:g} s"
    )
    if name.startswith("x_replies") and asked:
        text += (
            f" and {replies['dropped']:,} of {asked:,} reply tweets were dropped "
            f"({replies['dropped'] / asked:.0%}; those subscribers got the SMS alone)"
        )
    return text + "."


def simulate_verdict(summary: dict[str, Any]) -> list[str]:
    """Two to four sentences: binding resource, the planner's figure, the code latency and its losses."""
    utilisation = summary.get("utilisation") or {}
    if not utilisation:
        return []
    stages = summary["code_latency_stages_s"]
    binding = binding_resource(utilisation)
    sentences = []
    if binding in _NAMES:
        sentences.append(_station_sentence(binding, utilisation[binding], stages, binding=True))
    else:
        sentences.append(_budget_sentence(binding, utilisation[binding], summary["replies"]))
        station = max(_NAMES, key=lambda n: _load(n, utilisation[n]))
        sentences.append(_station_sentence(station, utilisation[station], stages, binding=False))
    workers = utilisation["workers"]
    were = "was" if workers["capacity"] == "1 worker" else "were"
    if not sentences[-1].startswith(
        ("The binding resource is the workers", "The busiest station is the workers")
    ):
        sentences.append(
            f"The {workers['capacity']} {were} {workers['mean']:.0%} busy over the arrival window "
            f"({workers['peak_offered']:.0%} at their busiest); "
            f"{max(workers['needed_for_80'], 1)} would hold the peak to {TARGET:.0%}."
        )
    code, mine = summary["code_latency_s"], summary["code_latency_controllable_s"]
    if code["count"] or code["censored"]:
        text = (
            f"Codes reached the handset in p50 {_seconds(code['p50'])}, p95 {_seconds(code['p95'])}; the "
            f"operator's own stages (ingestion, workers, SMS sender) took p95 {_seconds(mine['p95'])} of it, "
            "the carrier the rest"
        )
        total = code["count"] + code["censored"]
        if code["censored"]:
            text += (
                f"; {code['censored']:,} of {total:,} codes ({code['censored'] / total:.0%}) never arrived"
            )
            text += " before the run ended"
        sentences.append(text + ".")
    return sentences
