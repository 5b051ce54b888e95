"""Generates a Python client from hookgate's OpenAPI document with
openapi-python-client and drives the admin API through it.

Usage: openapi_client.py DOCUMENT BASE_URL TOKEN WORKDIR. The gateway at
BASE_URL (ending in /admin/v1) holds at least one event, one dead delivery
and one conflict. Prints one JSON object (what was seen and done) on the
last line; exits 1 with the reason when a call does not answer as the
document says.
"""
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path


def generate(document: str, workdir: Path) -> Path:
    package = workdir / "hookgate_client"
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    subprocess.run(
        [os.path.join(bin_dir, "openapi-python-client"), "generate", "--path", document,
         "--output-path", str(package), "--meta", "none"],
        check=True, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    return package


def main() -> int:
    document, base_url, token, workdir = sys.argv[1:5]
    package = generate(document, Path(workdir))
    sys.path.insert(0, str(package.parent))
    client_mod = importlib.import_module("hookgate_client.client")
    events = importlib.import_module("hookgate_client.api.events")
    deliveries = importlib.import_module("hookgate_client.api.deliveries")
    models = importlib.import_module("hookgate_client.models")
    for name in ("list_events", "get_event", "replay_event", "list_conflicts"):
        importlib.import_module(f"hookgate_client.api.events.{name}")
    for name in ("list_deliveries", "retry_delivery"):
        importlib.import_module(f"hookgate_client.api.deliveries.{name}")
    client = client_mod.AuthenticatedClient(base_url=base_url, token=token)
    seen = {"models": sorted(p.stem for p in (package / "models").glob("*.py"))}

    def expect(value, cls, what):
        if not isinstance(value, cls):
            raise SystemExit(f"{what}: got {type(value).__name__}: {value!r}")
        return value

    # List and get.
    page = expect(events.list_events.sync(client=client), models.PageEventItem, "list events")
    seen["event_item"] = type(page.items[0]).__name__
    seen["events"] = [e.event_id for e in page.items]
    detail = expect(events.get_event.sync(seen["events"][0], client=client),
                    models.EventDetail, "get event")
    seen["event_detail"] = detail.event_id

    # Retry a dead delivery.
    dead = expect(deliveries.list_deliveries.sync(client=client, status="dead"),
                  models.PageDeliveryView, "list dead deliveries")
    seen["delivery_view"] = type(dead.items[0]).__name__
    retried = expect(deliveries.retry_delivery.sync(dead.items[0].delivery_id, client=client),
                     models.RetryResponse, "retry")
    seen["retried"] = retried.delivery_id
    seen["retried_status"] = retried.status

    # Replay the event whose delivery was retried, to its routed targets (an
    # empty request; the generated call cannot send "no body" at all).
    replayed = expect(events.replay_event.sync(dead.items[0].event_id, client=client,
                                               body=models.ReplayRequest()),
                      models.ReplayResponse, "replay")
    seen["replayed_event"] = replayed.event_id
    seen["replayed"] = replayed.deliveries

    # Conflicts.
    conflicts = expect(events.list_conflicts.sync(client=client), models.PageConflictItem,
                       "list conflicts")
    seen["conflict_item"] = type(conflicts.items[0]).__name__
    seen["conflicts"] = [c.conflict_id for c in conflicts.items]

    # An error answer is read as the document's error body.
    missing = events.get_event.sync("evt_00000000000000000000000000", client=client)
    seen["missing"] = expect(missing, models.ErrorBody, "unknown event").error

    # Pausing and resuming a target go here once the admin API has them.

    print(json.dumps(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
