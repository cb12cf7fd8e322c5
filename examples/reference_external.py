"""The bundled reference run as a system under test: ``twittcom serve`` behind ``--against``.

The harness starts it like any other system (``twittcom storm|sweep SCENARIO --against ...``): this
launcher imports the population file into a fresh SQLite store in the run's work directory (the
reference has no import command: its directory is its store), then replaces itself with
``twittcom serve`` polling fake X (``--ingestion poll``) and sending through fake Twilio, with the
scenario's workers and poll interval. Its own X write budgets are switched off (a sweep's posts come
from unlinked users, answered by reply tweets and DMs; the fakes' limits are the scenario's)::

    twittcom sweep CALIBRATED.toml --against \\
      'python examples/reference_external.py --workdir {workdir} --population {population} \\
       --workers {workers} --poll {poll_interval} --dm-poll {dm_poll_interval}'

The other settings (URLs, tokens, credentials) come from the ``TWITTCOM_*`` variables the harness sets.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import sys
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _toml(value: object) -> str:
    """A TOML value: a JSON string is a TOML basic string, an integer is one."""
    return json.dumps(value)


def write_catalog(packs: list[dict[str, object]], path: Path) -> Path:
    """The population file's packs as the reference's catalog TOML (one ``[[pack]]`` per pack id,
    a hashtag per circle). The file does not carry a pack's kind or benefit: the sample catalog's
    where it has the pack, else an STV named as sold."""
    from reference.domain.catalog import default_catalog_path, load_catalog

    sample = {p.pack_id: p for p in load_catalog(default_catalog_path())}
    by_id: dict[str, list[dict[str, object]]] = {}
    for pack in packs:
        by_id.setdefault(str(pack["pack_id"]), []).append(pack)
    lines = ["version = 1"]
    for pack_id, sold in by_id.items():
        first, known = sold[0], sample.get(pack_id)
        tags = ", ".join(f"{p['circle']} = {_toml(p['hashtag'])}" for p in sold)
        lines += [
            "", "[[pack]]", f"id = {_toml(pack_id)}", f"name = {_toml(first['name'])}",
            f"kind = {_toml(known.kind if known else 'stv')}",
            f"price_paise = {int(str(first['price_paise']))}",
            f"validity_days = {int(str(first['validity_days']))}",
            f"benefit = {_toml(known.benefit if known else first['name'])}", f"hashtags = {{ {tags} }}",
        ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workdir", required=True)
    p.add_argument("--population", required=True)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--poll", type=float, default=1.0)
    p.add_argument("--dm-poll", type=float, default=0.0)
    args = p.parse_args()
    given = {
        k.removeprefix("TWITTCOM_").lower(): v for k, v in os.environ.items() if k.startswith("TWITTCOM_")
    }
    from reference.bootstrap import open_store
    from reference.domain.subscribers import Subscriber

    dsn = str(Path(args.workdir) / "reference.db")
    document = json.loads(Path(args.population).read_text())
    store = open_store(dsn)
    try:
        store.add_subscribers(
            Subscriber(
                s["msisdn"], s["circle"], int(s["balance_paise"]), bool(s["active"]), bool(s["prepaid"])
            )
            for s in document["subscribers"]
        )
    finally:
        store.close()
    # the packs the harness sells (the sample's, in every circle): the reference's own catalog
    catalog = write_catalog(document["packs"], Path(args.workdir) / "catalog.toml")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWITTCOM_")}
    env.update({
        "TWITTCOM_OTP_KEY": secrets.token_hex(16), "TWITTCOM_WEB_SECRET": secrets.token_urlsafe(24),
        "TWITTCOM_ADMIN_TOKEN": secrets.token_urlsafe(12), "TWITTCOM_X_USER_TWEET_LIMIT": "0",
        "TWITTCOM_X_APP_TWEET_LIMIT": "0", "TWITTCOM_X_DM_LIMIT": "0",
        "TWITTCOM_DM_POLL_INTERVAL_S": str(args.dm_poll),
    })  # fmt: skip
    sender = ["--twilio-from", given["sms_from"]] if given.get("sms_from") else []
    if given.get("sms_service_sid"):
        sender = ["--twilio-messaging-service-sid", given["sms_service_sid"]]
    argv = [
        sys.executable, "-c", "from twittcom.cli import main; main()", "serve", "--port", str(port),
        "--public-base-url", f"http://127.0.0.1:{port}", "--dsn", dsn,
        "--operator-handle", document["operator"]["handle"], "--operator-user-id", given["operator_id"],
        "--x-user-token", given["operator_token"], "--x-base-url", given["x_url"],
        "--twilio-account-sid", given["sms_account_sid"], "--twilio-auth-token", given["sms_auth_token"],
        "--twilio-base-url", given["sms_url"], *sender, "--ingestion", "poll", "--catalog", str(catalog),
        "--workers", str(args.workers), "--poll-interval", str(args.poll),
    ]  # fmt: skip
    print(
        f"reference: serving on port {port}, {len(document['subscribers'])} subscribers and "
        f"{len(document['packs'])} packs imported",
        flush=True,
    )
    os.execve(sys.executable, argv, env)


if __name__ == "__main__":
    main()
