"""The dashboard's browser scenarios, run by test_browser_dashboard.py in headless Chromium
(browser_util.Page) against a real kuiperd:

- main: every page in turn, as a user would use it: a malformed CREATE STREAM shows the parse error
  at its line and column; a stream is created, described, edited and replaced; the example table is
  created; a rule is created through its form and turns running; MQTT messages published to the
  stream move its counters and charts and show in the output preview; the rule list stops it; the
  edit form shows a SQL error inline, validates the fix, saves and restarts it; the rule is deleted
  and the stream dropped; the broker page lists a connected client, its subscription and a retained
  message, charts $SYS and shows a message published while watching; the configuration page.
- auth (basic.authentication on): the sign-in form refuses a bad token with the server's reason,
  accepts a good one, sends it on every call, and forgets it on sign-out.

Each step prints "ok"/"not ok" with its time; a failing step is screenshotted ("failed-<n>") and the
scenario goes on, so one run reports every broken step. Screenshots of the pages (the ones
docs/dashboard.md shows) are written on the way. No page may raise an uncaught script error.
"""
import json
import re
import subprocess
import time
import traceback

from harness import wait_for


class Steps:
    """Runs named steps on a page, recording the failures instead of stopping at the first."""

    def __init__(self, page):
        self.page, self.failures, self.count = page, [], 0

    def __call__(self, name, fn):
        self.count += 1
        t0 = time.time()
        try:
            fn()
            print("ok - %s (%d ms)" % (name, (time.time() - t0) * 1000), flush=True)
        except Exception as e:  # noqa: BLE001 (an assertion, a WebDriver error: all fail the step)
            detail = "".join(traceback.format_exception_only(type(e), e)).strip()
            print("not ok - %s\n  %s" % (name, detail.replace("\n", "\n  ")), flush=True)
            self.failures.append("%s: %s" % (name, detail))
            try:
                self.page.shot("failed-%d" % self.count)
            except Exception:  # noqa: BLE001 (the browser itself may be what failed)
                pass
        finally:
            try:
                self.page.collect_errors()
            except Exception:  # noqa: BLE001
                pass

    def finish(self):
        """The last step: no uncaught script error on any page. Returns the failures."""
        def no_errors():
            errors = self.page.collect_errors()
            assert not errors, "\n".join(errors)
        self("no uncaught script error on any page", no_errors)
        return self.failures


def publish(k, topic, message, retain=False):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(k.mqtt_port), "-t", topic, "-m", message]
                   + (["-r"] if retain else []), check=True, timeout=10)


VALUE_HAS = """const e = document.querySelector(arguments[0]);
return e !== null && e.value.includes(arguments[1]);"""
NUMBER_AT_LEAST = """const e = document.querySelector(arguments[0]);
return e !== null && Number(e.textContent.replace(/,/g, '')) >= arguments[1];"""
BROKER_CELL = """const [title, text] = arguments;
for (const card of document.querySelectorAll('main .card')) {
  if (![...card.querySelectorAll('h2')].some((h) => norm(h.textContent).includes(norm(title)))) continue;
  for (const td of card.querySelectorAll('td')) if (norm(td.textContent).includes(norm(text)) && visible(td)) return td;
}
return null;"""
# A $SYS chart has drawn at least three rounds (sysInterval 1 s): the figures move as they arrive.
SYS_MOVING = """return [...document.querySelectorAll('[data-testid=sys-charts] svg polyline')]
  .some((p) => (p.getAttribute('points') || '').trim().split(/\\s+/).length >= 3);"""

BAD_STREAM = 'CREATE STREAM bad (a BIGINT)\nWITH (DATASOURCE="bad" FORMAT="JSON")'
STREAM = 'CREATE STREAM demo (\n  temperature FLOAT,\n  humidity BIGINT\n) WITH (DATASOURCE="demo", FORMAT="JSON")'
STREAM2 = ('CREATE STREAM demo (\n  temperature FLOAT,\n  humidity BIGINT,\n  pressure FLOAT\n)'
           ' WITH (DATASOURCE="demo", FORMAT="JSON")')
RULE_ID = "dash1"


def main(page, dash, k):
    """The main scenario; dash is the dashboard's URL, k the kuiperd whose broker and REST API it
    shows (the same process, or the engine behind a --dashboard-only forwarder)."""
    step = Steps(page)
    form = "[data-testid=create-form]"

    def streams_page():
        page.go(dash + "/#/streams", "streams")
        assert "Streams" in page.text("main h1"), "heading"
        page.find("nav a[data-page=streams].active")
        page.gone("nav a[data-page=rules].active")
        page.find("[data-testid=streams-list]")
    step("the streams page renders with the navigation", streams_page)

    def bad_stream():
        page.fill(form + " textarea", BAD_STREAM)
        page.click(form + " button[type=submit]")
        text = page.text("[data-testid=sql-error]")
        assert text, "an error message"
        assert re.search(r"line\s+\d+\s*,?\s*column\s+\d+", text, re.I), "line and column in %r" % text
        page.find(".sqled .gutter div.err")
        page.find(".sqlerr pre .caret")
        print("# server said: %s" % text)
        page.shot("stream-error")
    step("a malformed CREATE STREAM shows the server's parse error inline", bad_stream)

    def create_stream():
        page.fill(form + " textarea", STREAM)
        page.click(form + " button[type=submit]")
        page.find("[data-testid=create-ok]")
        page.find("tr[data-name=demo]")
        page.click("tr[data-name=demo] button", "Describe")
        page.find("[data-testid=describe] *", "temperature")
    step("a stream is created, listed and described through the UI", create_stream)

    def replace_stream():
        page.click("[data-testid=describe] button[data-action=edit]")
        page.until(VALUE_HAS, form + " textarea", "CREATE STREAM demo", what="the stream's SQL in the form")
        page.fill(form + " textarea", STREAM2)
        page.click(form + " button[type=submit]", "Replace stream")
        page.find("[data-testid=create-ok]")
        page.find("[data-testid=describe] *", "pressure")
        page.shot("streams")
    step("a stream's SQL is edited and replaced through the UI", replace_stream)

    def tables():
        page.go(dash + "/#/tables", "tables")
        assert "Tables" in page.text("main h1"), "heading"
        page.find("[data-testid=tables-list]")
        page.click(form + " button[type=submit]")  # the form's example is a memory lookup table
        page.find("[data-testid=create-ok]")
        page.find("tr[data-name=lookup]")
        page.shot("tables")
    step("the tables page renders and creates the example table", tables)

    rule_steps(page, step, dash, k)
    broker_steps(page, step, dash, k)

    def config():
        page.go(dash + "/#/config", "config")
        page.find("[data-testid=server-info] *", "version")
        page.find("pre.json", "timezone")
        page.shot("config")
    step("the configuration page shows the server", config)
    return step.finish()


def rule_steps(page, step, dash, k):
    rule_form, sql = "[data-testid=rule-form]", "[data-testid=rule-form] .sqled textarea"
    at_rule = "return location.hash === '#/rules/' + arguments[0];"

    def create():
        page.go(dash + "/#/rules/new", "rules")
        page.fill("input[name=id]", RULE_ID)
        page.fill("input[name=name]", "Hot readings")
        page.fill(sql, "SELECT temperature, humidity FROM demo WHERE temperature > 20")
        page.fill("textarea[name=actions]", json.dumps([
            {"mqtt": {"server": "tcp://127.0.0.1:%d" % k.mqtt_port, "topic": "result/" + RULE_ID}},
            {"log": {}}], indent=2))
        page.shot("rule-form")
        page.click(rule_form + " button[type=submit]")
        page.until(at_rule, RULE_ID, what="the rule's page")
        page.find(".badge[data-status=running]", timeout=15)
    step("a rule is created in the form and its status turns running", create)

    def plan():
        page.find("[data-testid=rule-plan] [data-op^=ProjectPlan]", state="attached", timeout=10)
        page.find("[data-testid=rule-plan] [data-op^=DataSourcePlan]", state="attached")
    step("the rule page shows the plan GET /rules/{id}/explain answers as text", plan)

    def metrics():
        page.find("[data-testid=preview]")
        # Two rounds of six messages, each seen in the records-in figure: the counters move as
        # messages arrive. Within a round the messages are spread out (pacing, not a check) so that
        # the charts get more than one point.
        for first in (0, 6):
            for i in range(first, first + 6):
                publish(k, "demo", json.dumps({"temperature": 20 + i, "humidity": 50 + i}))
                time.sleep(0.15)
            page.until(NUMBER_AT_LEAST, "[data-testid=records-in]", first + 6, timeout=10,
                       what="records in to reach %d" % (first + 6))
        page.find("[data-testid=nodes] .node svg polyline", state="attached", timeout=10)
        page.until(NUMBER_AT_LEAST, "[data-testid=records-out]", 1, timeout=10, what="records out")
        page.find("[data-testid=preview-messages] li", "temperature", timeout=5)
        page.shot("rule")
    step("published MQTT messages move the rule's metrics and appear in the preview", metrics)

    def stop():
        page.go(dash + "/#/rules", "rules")
        page.find("tr[data-rule=%s] .badge[data-status=running]" % RULE_ID)
        page.shot("rules")
        page.click("tr[data-rule=%s] button[data-action=stop]" % RULE_ID)
        page.find("tr[data-rule=%s] .badge:not([data-status=running])" % RULE_ID, timeout=10)
    step("the rules list shows the rule running and stops it", stop)

    def edit():
        page.go(dash + "/#/rules/%s/edit" % RULE_ID, "rules")
        page.until(VALUE_HAS, sql, "FROM demo", what="the rule's SQL in the form")
        page.fill(sql, "SELECT temperature,\nFROM demo WHERE")
        page.click("button[data-action=check]")  # POST /rules/validate
        page.find("[data-testid=sql-error]")
        page.find(".sqled .gutter div.err")
        page.click(rule_form + " button[type=submit]")
        page.find("[data-testid=sql-error]")
        page.fill(sql, "SELECT temperature FROM demo WHERE temperature > 25")
        page.click("button[data-action=check]")
        page.find("[data-testid=rule-valid]")
        page.click(rule_form + " button[type=submit]")
        page.until(at_rule, RULE_ID, what="the rule's page")
        page.click("button[data-action=restart]")
        page.find(".badge[data-status=running]", timeout=10)
        page.find("details *", "temperature > 25", state="attached")
    step("editing the rule: Check and Save show the SQL error inline, the fix validates, saves and restarts",
         edit)

    def delete():
        page.click("button[data-action=delete]")
        page.accept_dialog()
        page.until("return location.hash === '#/rules';", what="the rule list")
        page.gone("tr[data-rule=%s]" % RULE_ID)
        page.go(dash + "/#/streams", "streams")
        page.click("tr[data-name=demo] button", "Drop")
        page.accept_dialog()
        page.gone("tr[data-name=demo]")
    step("deleting the rule and dropping the stream through the UI", delete)


def broker_steps(page, step, dash, k):
    def broker():
        # A client connected with a subscription, and a retained message, for the tables.
        sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(k.mqtt_port), "-i", "dash-client",
                                "-q", "1", "-t", "dash/sub/#"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            publish(k, "dash/kept", "kept for the table", retain=True)
            wait_for(lambda: k.request("GET", "/broker/subscriptions?clientid=dash-client")[1].get("data"),
                     timeout=5, what="the subscription of dash-client")
            page.go(dash + "/#/broker", "broker")
            for title, text in (("Connected clients", "dash-client"), ("Subscriptions", "dash/sub/#"),
                                ("Retained messages", "dash/kept")):
                page.until(BROKER_CELL, title, text, timeout=5, what='"%s" in %s' % (text, title))
            page.find("[data-testid=sys-charts] svg polyline", state="attached", timeout=10)
            page.fill("input[name=filter]", "dash/#")
            page.click("form.card button[type=submit]")
            page.find("main *", "watching dash/#")
            publish(k, "dash/hello", '{"hello":"dashboard"}')
            page.find("[data-testid=messages] li", "dash/hello", timeout=5)
            cards = page.driver.execute_script("return document.querySelectorAll('main .card').length;")
            assert cards >= 5, "five sections, found %d" % cards
            page.until(SYS_MOVING, timeout=10, what="three rounds of $SYS in a chart")
            page.shot("broker")
        finally:
            sub.kill()
            sub.wait()
    step("the broker page charts $SYS figures and shows live messages", broker)


def auth(page, dash, token):
    """The sign-in scenario; token is a valid JWT for the kuiperd behind dash."""
    step = Steps(page)

    def asks():
        page.driver.get(dash + "/")
        page.find("textarea[name=token]")
        assert page.hash() == "#/login", "on #/login, not %s" % page.hash()
        page.shot("login")
    step("without a token the dashboard asks for one", asks)

    def refused():
        page.fill("textarea[name=token]", "not-a-jwt")
        page.click("form button[type=submit]")
        text = page.text("[data-testid=login-error]")
        assert "unauthorized" in text, "the 401 message, not %r" % text
    step("a bad token is refused with the server's reason", refused)

    def signs_in():
        page.fill("textarea[name=token]", token)
        page.click("form button[type=submit]")
        page.find("main[data-page=streams] h1")
        page.find("#session button")
        page.go(dash + "/#/config", "config")
        page.find("[data-testid=server-info] *", "version")
        page.click("#session button")
        page.find("textarea[name=token]")
        stored = page.driver.execute_script("return sessionStorage.getItem('kuiper.jwt');")
        assert stored is None, "token forgotten, still %r" % stored
    step("a valid token signs in, is sent on every call, and signing out forgets it", signs_in)
    return step.finish()
