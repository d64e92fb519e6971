"""An idle kuiperd maps only the libraries it uses while idle. libmicrohttpd (and the GnuTLS stack
Debian links it with), OpenSSL, Paho MQTT C, libcurl, PCRE2, zlib and zstd load on first use
(engine/lazy_lib.h): each costs resident memory just by being mapped, and an edge box running rules
from data/ files may never need them (bench/idle_rss.sh, bench/RESULTS.md "Idle memory").

The test starts kuiperd with the shipped configuration, waits for its "started" log line without
connecting to the REST port, and reads /proc/PID/maps. Then it uses each feature as a user would:
plain MQTT through the bundled broker (still no OpenSSL, no Paho), a first REST call (answered; now
libmicrohttpd is mapped), and a rule whose SQL hashes with md5() and matches with regexp_matches()
(right results; now OpenSSL and PCRE2 are mapped)."""
import hashlib
import json
import re
import unittest

from broker_util import client, subscribe
from harness import Kuiperd, main, wait_for

LAZY = {"libmicrohttpd": "libmicrohttpd.so", "GnuTLS": "libgnutls.so", "OpenSSL libssl": "libssl.so",
        "OpenSSL libcrypto": "libcrypto.so", "Paho MQTT C": "libpaho-mqtt3", "libcurl": "libcurl.so",
        "PCRE2": "libpcre2-8.so", "zlib": "libz.so", "zstd": "libzstd.so"}


def mapped(k):
    """The names of the shared objects mapped into kuiperd."""
    with open("/proc/%d/maps" % k.proc.pid) as f:
        return {line.split()[-1].rsplit("/", 1)[-1] for line in f if "/" in line}


def loaded(k, what):
    return any(LAZY[what] in name for name in mapped(k))


def start_untouched(k):
    """Starts kuiperd and waits for the end of its start-up by its log, never connecting to REST."""
    k.start(wait=False)
    try:
        wait_for(lambda: re.search(r"kuiperd \S+ started", k.output()) or k.proc.poll() is not None,
                 timeout=20, what="kuiperd's 'started' line")
        if k.proc.poll() is not None:
            raise AssertionError("kuiperd exited:\n" + k.output())
    except AssertionError:
        k.kill9()
        k.cleanup()
        raise


class LazyLibraries(unittest.TestCase):
    def test_idle_maps_none_then_each_loads_on_first_use(self):
        k = Kuiperd()
        start_untouched(k)
        with k:  # stops kuiperd (failing on a sanitizer report) and removes its directory
            for what in LAZY:
                self.assertFalse(loaded(k, what), "%s is mapped in an idle kuiperd" % what)

            # Plain MQTT through the bundled broker needs neither OpenSSL nor Paho.
            got = []
            sub = client(k.mqtt_port, "lazy-sub")
            sub.on_message = lambda c, u, m: got.append(m.payload)
            subscribe(sub, "lazy/t", qos=1)
            pub = client(k.mqtt_port, "lazy-pub")
            pub.publish("lazy/t", b"hello", qos=1).wait_for_publish(5)
            wait_for(lambda: got, what="the message through the broker")
            self.assertEqual(got, [b"hello"])
            for what in ("OpenSSL libssl", "OpenSSL libcrypto", "Paho MQTT C", "GnuTLS"):
                self.assertFalse(loaded(k, what), "plain MQTT loaded %s" % what)

            # The first REST call is answered, and only then is the HTTP stack there.
            status, _ = k.request("GET", "/ping")
            self.assertEqual(status, 200)
            self.assertTrue(loaded(k, "libmicrohttpd"))

            # A rule hashing with md5() gives the right digest through the lazily loaded OpenSSL.
            status, body = k.request("POST", "/streams", {
                "sql": 'CREATE STREAM lazys (name string) WITH (DATASOURCE="lazy/in", FORMAT="JSON")'})
            self.assertEqual(status, 201, body)
            status, body = k.request("POST", "/rules", {
                "id": "lazyr", "sql": "SELECT md5(name) AS h, regexp_matches(name, '^ku') AS m FROM lazys",
                "actions": [{"mqtt": {"server": "tcp://127.0.0.1:%d" % k.mqtt_port, "topic": "lazy/out"}}]})
            self.assertEqual(status, 201, body)
            out = []
            sub.on_message = lambda c, u, m: out.append(json.loads(m.payload))
            subscribe(sub, "lazy/out", qos=1)
            wait_for(lambda: k.request("GET", "/rules/lazyr/status")[1].get("status") == "running",
                     what="rule lazyr running")
            pub.publish("lazy/in", json.dumps({"name": "kuiper"}), qos=1).wait_for_publish(5)
            wait_for(lambda: out, what="the rule's result")
            self.assertEqual(out[0], [{"h": hashlib.md5(b"kuiper").hexdigest(), "m": True}])
            self.assertTrue(loaded(k, "OpenSSL libcrypto"))
            self.assertTrue(loaded(k, "PCRE2"))
            for c in (sub, pub):
                c.loop_stop()
                c.disconnect()


if __name__ == "__main__":
    main()
