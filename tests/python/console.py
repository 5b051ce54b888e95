"""Drives the hookgate console in Debian's chromium with Playwright.

Usage: console.py SCENARIO_JSON. The Rust test (tests/api/console.rs)
starts hookgate with real targets, seeds events by signed ingest, and
passes what it seeded. Exits non-zero on the first failed check; prints the
browser and driver versions and how long each step took.
"""
import json
import os
import re
import sys
import time
import urllib.request
from importlib.metadata import version

from playwright.sync_api import expect, sync_playwright


def send_signed(base, request):
    """POSTs a request the Rust test signed (with hookgate's own provider
    signing), from outside the browser."""
    req = urllib.request.Request(
        base + request["path"],
        data=request["body"].encode(),
        headers=request["headers"],
    )
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 200, resp.status


def main() -> int:
    s = json.loads(sys.argv[1])
    started = time.monotonic()
    steps = []

    def step(name):
        steps.append((name, time.monotonic()))
        print(f"- {name}", flush=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=s["chromium"], args=["--no-sandbox"])
        print(f"browser: chromium {browser.version}; driver: playwright {version('playwright')}")
        page = browser.new_page(viewport={"width": 1360, "height": 860})
        page.set_default_timeout(30_000)
        expect.set_options(timeout=30_000)
        dialogs, problems = [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on(
            "console",
            lambda m: problems.append(f"console: {m.text}")
            if m.type == "error" and "Content Security Policy" in m.text
            else None,
        )
        rows = page.locator("#events-table tbody tr[data-id]")
        form = page.locator("#filters")

        defaults = {"q": "", "source": "", "type": "", "status": "", "since": "", "until": "", "limit": "50"}

        def apply(**fields):
            """Sets every filter (these, the rest to their defaults) and applies.

            The events view must be showing: its route fills the form, and a
            route still pending would overwrite what is typed here.
            """
            expect(page.locator("#view-events")).to_be_visible()
            for name, default in defaults.items():
                value = fields.get(name, default)
                field = form.locator(f"[name={name}]")
                if field.evaluate("e => e.tagName") == "SELECT":
                    field.select_option(value)
                else:
                    field.fill(value)
            form.locator("button[type=submit]").click()

        step("sign in (a wrong token is refused)")
        page.goto(s["base"] + "/console")
        page.fill("#token", "not-the-token")
        page.click("#signin-form button")
        expect(page.locator("#signin-error")).to_contain_text("refused")
        page.fill("#token", s["token"])
        page.click("#signin-form button")
        expect(page.locator("#nav")).to_be_visible()
        expect(rows).to_have_count(50)
        expect(rows.first).not_to_contain_text("seed.bulk")
        page.screenshot(path=os.path.join(s["shots"], "console-events.png"))

        step("filter by source")
        apply(source="github")
        expect(rows).to_have_count(s["github_events"])
        sources = page.locator("#events-table tbody tr[data-id] td:nth-child(2)").all_inner_texts()
        assert sources == ["github"] * s["github_events"], sources

        step("clear the filters")
        page.click("#clear-filters")
        expect(page).to_have_url(re.compile("#/events$"))
        expect(form.locator("select[name=source]")).to_have_value("")
        expect(rows).to_have_count(50)

        step("page through 500 events, newest first")
        t = time.monotonic()
        apply(type="seed.bulk", limit="500")
        expect(rows).to_have_count(s["seeded"])
        shown_ms = (time.monotonic() - t) * 1000
        render_ms = page.locator("#events-table tbody").get_attribute("data-render-ms")
        ids = page.locator("#events-table tbody tr[data-id] td:nth-child(4)").all_inner_texts()
        assert ids[0] == "evt_seed_0499" and ids[-1] == "evt_seed_0000", (ids[0], ids[-1])
        expect(page.locator("#page-next")).to_be_disabled()
        print(f"  500 rows: shown {shown_ms:.0f} ms after Clear + Apply (two fetches), table built in {render_ms} ms")
        apply(type="seed.bulk", limit="100")
        expect(rows).to_have_count(100)
        page.click("#page-next")
        expect(rows.first.locator("td:nth-child(4)")).to_have_text("evt_seed_0399")
        page.click("#page-first")
        expect(rows.first.locator("td:nth-child(4)")).to_have_text("evt_seed_0499")

        step("find an event by its Stripe ID and open it")
        apply(q=s["charge_pid"])
        expect(rows).to_have_count(1)
        expect(rows.first.locator("td:nth-child(4)")).to_have_text(s["charge_pid"])
        rows.first.click()
        expect(page.locator("#provider-event-id")).to_have_text(s["charge_pid"])

        step("see the attempts, retry the dead delivery, see it delivered")
        card = page.locator(".delivery[data-target=flaky]")
        expect(card).to_have_attribute("data-status", "dead")
        expect(card.locator(".attempt")).to_have_count(1)
        expect(card.locator(".attempt").first).to_contain_text("HTTP 500")
        expect(card.locator(".attempt .excerpt").first).to_have_text("upstream timeout")
        card.locator("button.retry").click()
        expect(card).to_have_attribute("data-status", "delivered")
        expect(card.locator(".attempt")).to_have_count(2)
        expect(card.locator(".attempt").nth(1)).to_contain_text("HTTP 200")
        expect(page.locator("#view-event h1 .badge")).to_have_text("delivered")
        page.screenshot(path=os.path.join(s["shots"], "console-event.png"), full_page=True)

        step("open an event by its hookgate ID")
        page.click("#nav a[data-view=events]")
        apply(q=s["charge_event_id"])
        # The detail view still holds this event from before: wait for the
        # navigation itself, not only for the text.
        expect(page).to_have_url(re.compile("#/event/" + re.escape(s["charge_event_id"]) + "$"))
        expect(page.locator("#view-event")).to_be_visible()
        expect(page.locator("#provider-event-id")).to_have_text(s["charge_pid"])

        step("bulk retry by filter, with its count first")
        page.click("#nav a[data-view=events]")
        apply(source="github")
        expect(rows).to_have_count(s["github_events"])
        page.click("#bulk-open")
        page.click("#bulk-count")
        result = page.locator("#bulk-result")
        expect(result).to_have_attribute("data-count", "3")
        expect(result).to_contain_text("3 dead deliveries match (source=github)")
        confirm = page.locator("#bulk-confirm")
        expect(confirm).to_have_text("Retry 3 deliveries")
        confirm.click()
        expect(result).to_have_text("Queued 3 deliveries for retry.")
        page.click("#bulk-close")
        apply(source="github", status="delivered")
        expect(rows).to_have_count(3)

        step("auto-refresh shows an event that arrives meanwhile")
        apply(type="invoice.*")
        expect(rows).to_have_count(2)
        page.check("#auto-refresh")
        send_signed(s["base"], s["live_event"])
        expect(rows).to_have_count(3)
        expect(rows.first.locator("td:nth-child(4)")).to_have_text("evt_1R2d4hKJ8sV0aPq9Ar7fQw2E")
        page.uncheck("#auto-refresh")

        step("hostile content is shown as text, never run")
        apply(q=s["hostile_pid"])
        expect(rows).to_have_count(1)
        expect(rows.first.locator("td:nth-child(4)")).to_have_text(s["hostile_pid"])
        rows.first.click()
        view = page.locator("#view-event")
        expect(page.locator("#provider-event-id")).to_have_text(s["hostile_pid"])
        expect(page.locator("#event-type")).to_have_text(
            "customer.<img src=x onerror=\"window.__pwned='type'\">"
        )
        pretty = view.locator("pre[data-view=pretty]")
        expect(pretty).to_contain_text("<script>window.__pwned='body'</script>")
        expect(pretty).to_contain_text("<img src=x onerror=")
        view.locator(".tabs button", has_text="Raw").click()
        expect(view.locator("pre[data-view=raw]")).to_be_visible()
        expect(view.locator("pre[data-view=raw]")).to_contain_text("\"name\":\"<script>")
        expect(view.locator("table.headers")).to_contain_text(
            "<img src=x onerror=\"window.__pwned='header'\">"
        )
        assert page.locator("main img, main script, main iframe").count() == 0, "markup was parsed"
        pwned = page.evaluate("typeof window.__pwned === 'undefined' ? null : String(window.__pwned)")
        assert pwned is None, f"a payload ran: window.__pwned = {pwned}"

        step("conflicts side by side")
        page.click("#nav a[data-view=conflicts]")
        page.locator("#view-conflicts a", has_text=" ").first.click()
        sides = page.locator("#view-conflict .side")
        expect(sides).to_have_count(2)
        expect(sides.nth(0).locator("pre")).to_contain_text('"type": "invoice.paid"')
        expect(sides.nth(1).locator("pre")).to_contain_text('"type": "invoice.voided"')

        step("targets and sources")
        page.click("#nav a[data-view=targets]")
        flaky = page.locator("#view-targets tr[data-target=flaky]")
        expect(flaky).to_contain_text("50.0 %")
        expect(flaky).to_contain_text("HTTP 500 ")
        expect(page.locator("#view-targets tr[data-target=ledger]")).to_contain_text("50.0 %")
        page.click("#nav a[data-view=sources]")
        expect(page.locator("#view-sources tbody tr", has_text="github")).to_contain_text("3")

        step("routes: expressions listed, the tester answers for a pasted body and a stored event")
        page.click("#nav a[data-view=routes]")
        route_row = page.locator("#view-routes tr[data-route='routes[3] (stripe -> notifier)']")
        expect(route_row).to_contain_text(s["route_filter"])
        expect(route_row).to_contain_text("{text: .event_type}")
        page.select_option("#test-source", "stripe")
        invoice = {"id": "evt_console_test", "type": "invoice.paid",
                   "data": {"object": {"id": "in_77", "amount_paid": 5000}}}
        page.fill("#test-body", json.dumps(invoice))
        page.click("#test-run")
        notifier = page.locator("#route-test-result tr[data-target=notifier]")
        expect(notifier).to_have_attribute("data-applies", "true")
        expect(notifier).to_contain_text('"text": "invoice.paid"')
        expect(notifier).to_contain_text("in_77")
        expect(page.locator("#route-test-result tr[data-target=billing]")).to_have_attribute("data-applies", "true")
        expect(page.locator("#route-test-result tr[data-target=flaky]")).to_have_attribute("data-applies", "false")
        invoice["data"]["object"]["amount_paid"] = 0
        page.fill("#test-body", json.dumps(invoice))
        page.click("#test-run")
        expect(notifier).to_have_attribute("data-applies", "false")
        expect(notifier).to_contain_text("the filter gave false")
        page.fill("#test-event", s["charge_event_id"])
        page.click("#test-load")
        expect(page.locator("#test-body")).to_have_value(re.compile(re.escape(s["charge_pid"])))
        page.click("#test-run")
        expect(page.locator("#route-test-result tr[data-target=flaky]")).to_have_attribute("data-applies", "true")
        expect(page.locator("#route-test-summary")).to_contain_text("charge.failed")
        page.screenshot(path=os.path.join(s["shots"], "routes.png"), full_page=True)

        step("sign out forgets the token")
        page.click("#sign-out")
        expect(page.locator("#signin")).to_be_visible()
        assert page.evaluate("sessionStorage.length") == 0

        assert not dialogs, f"dialogs fired: {dialogs}"
        assert not problems, f"problems: {problems}"
        browser.close()

    steps.append(("end", time.monotonic()))
    for (name, t0), (_, t1) in zip(steps, steps[1:]):
        print(f"  {t1 - t0:6.2f} s  {name}")
    print(f"browser checks passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
