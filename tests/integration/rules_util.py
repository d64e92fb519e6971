"""Helpers shared by the rule engine's integration tests (test_rules_*.py): a paho client that
publishes test input to the bundled broker and collects every rule output on out/#, and small
helpers to create streams and rules over REST and wait for exact outputs, and SharedKuiperd, the
base of the test classes whose tests share one kuiperd and one Listener."""
import json
import threading
import time

import unittest

import paho.mqtt.client as mqtt

from harness import Kuiperd, wait_for

# A rule's options for event time with no late tolerance (events behind the watermark are late).
EVENT_TIME = {"isEventTime": True, "lateTolerance": 0}


class Listener:
    """A paho client collecting every message on out/# of the bundled broker."""

    def __init__(self, port):
        self.got = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.c = mqtt.Client()
        self.c.on_message = self._on_message
        self.c.on_subscribe = lambda *a: self.ready.set()
        self.c.connect("127.0.0.1", port)
        self.c.subscribe("out/#", 1)
        self.c.loop_start()
        self.ready.wait(5)

    def _on_message(self, client, userdata, m):
        with self.lock:
            self.got.append((m.topic, m.payload.decode()))

    def messages(self, topic):
        with self.lock:
            return [p for t, p in self.got if t == topic]

    def publish(self, topic, payload):
        self.c.publish(topic, payload if isinstance(payload, str) else json.dumps(payload), qos=1).wait_for_publish()

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


class SharedKuiperd(unittest.TestCase):
    """One kuiperd (cls.k, default configuration) and one Listener on its broker (cls.lis) for all
    the tests of the class, stopped and removed after the last."""

    @classmethod
    def setUpClass(cls):
        cls.k = Kuiperd().start()
        cls.lis = Listener(cls.k.mqtt_port)

    @classmethod
    def tearDownClass(cls):
        cls.lis.close()
        cls.k.stop()
        cls.k.cleanup()


def mqtt_sink(k, topic):
    return {"mqtt": {"server": "tcp://127.0.0.1:%d" % k.mqtt_port, "topic": topic}}


def create_streams(tc, k, *sqls):
    for sql in sqls:
        status, body = k.request("POST", "/streams", {"sql": sql})
        tc.assertEqual(status, 201, body)


def create_rule(tc, k, body):
    status, reply = k.request("POST", "/rules", body)
    tc.assertEqual((status, reply), (201, "Rule %s was created successfully." % body["id"]))
    wait_for(lambda: k.request("GET", "/rules/%s/status" % body["id"])[1]["status"] == "running",
             what="rule %s running" % body["id"])


def records_in(k, rid, key):
    return k.request("GET", "/rules/%s/status" % rid)[1].get(key)


def expect(tc, lis, topic, expected, timeout=10, settle=0.3, any_order=False):
    """Waits until topic received len(expected) messages, lets stragglers arrive, then compares
    the exact payloads (parsed as JSON, so key order is eKuiper's alphabetical one anyway).
    any_order: the messages come from several rules running in parallel, whose relative order is
    not defined; the same messages must arrive, in any order."""
    wait_for(lambda: len(lis.messages(topic)) >= len(expected), timeout=timeout,
             what="%d messages on %s (got %r)" % (len(expected), topic, lis.messages(topic)))
    time.sleep(settle)
    got = [json.loads(p) for p in lis.messages(topic)]
    if any_order:
        key = lambda m: json.dumps(m, sort_keys=True)
        got, expected = sorted(got, key=key), sorted(expected, key=key)
    tc.assertEqual(got, expected)
