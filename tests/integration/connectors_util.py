"""Helpers for the connector integration tests: a Mosquitto broker from Debian started on a free
loopback port with a temporary configuration (always stopped by the test), an MQTT listener
that collects what arrives on a topic filter, and a rule whose cached QoS 1 mqtt sink writes to
such a broker (the sink cache and fault tests)."""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import paho.mqtt.client as mqtt

from harness import free_port, wait_for

MOSQUITTO = "/usr/sbin/mosquitto"


def rule_status(k, rid):
    """The rule's status object, {} when kuiperd does not answer with one."""
    status, body = k.request("GET", "/rules/%s/status" % rid)
    return body if status == 200 and isinstance(body, dict) else {}


def start_cached_rule(k, rid, stream, port, sink_topic, options=None):
    """Creates stream (i BIGINT, JSON on topic <stream>/in, unless it is given as "name:topic") and
    rule rid sending `SELECT i` one message at a time with QoS 1 and the sink cache on to
    sink_topic on the broker at 127.0.0.1:port; returns when the rule runs."""
    name, _, topic = stream.partition(":")
    sql = 'CREATE STREAM %s (i BIGINT) WITH (DATASOURCE="%s", FORMAT="json")' % (name, topic or name + "/in")
    status, body = k.request("POST", "/streams", {"sql": sql})
    assert status == 201, (status, body)
    action = {"mqtt": {"server": "tcp://127.0.0.1:%d" % port, "topic": sink_topic, "qos": 1,
                       "sendSingle": True, "enableCache": True}}
    rule = {"id": rid, "sql": "SELECT i FROM %s" % name, "actions": [action]}
    if options:
        rule["options"] = options
    status, body = k.request("POST", "/rules", rule)
    assert status == 201, (status, body)
    wait_for(lambda: rule_status(k, rid).get("status") == "running", what="rule running")


class Mosquitto:
    """An external broker: Mosquitto on 127.0.0.1:port (a fresh free port unless given)."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="ek-mosq-")
        self.proc = None

    def config(self):
        """The mosquitto.conf text; subclasses add settings."""
        return "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n" % self.port

    def start(self, timeout=5):
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(self.config())
        self.proc = subprocess.Popen([MOSQUITTO, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("mosquitto did not start on port %d" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Listener:
    """A paho client on host:port collecting (topic, payload) of every message on filter."""

    def __init__(self, port, filt="#", version=mqtt.MQTTv311):
        self.got = []
        self.lock = threading.Lock()
        ready = threading.Event()
        self.c = mqtt.Client(protocol=version)
        self.c.on_message = self._on_message
        self.c.on_subscribe = lambda *a: ready.set()
        self.c.connect("127.0.0.1", port)
        self.c.subscribe(filt, 1)
        self.c.loop_start()
        if not ready.wait(5):
            raise RuntimeError("subscription to %s on %d not acknowledged" % (filt, port))

    def _on_message(self, client, userdata, m):
        with self.lock:
            self.got.append((m.topic, m.payload.decode(errors="replace")))

    def messages(self, topic=None):
        with self.lock:
            return [p for t, p in self.got if topic is None or t == topic]

    def publish(self, topic, payload, qos=1):
        self.c.publish(topic, payload, qos=qos).wait_for_publish()

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()
