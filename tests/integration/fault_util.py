"""Helpers for the fault and soak tests (test_fault_*.py): how long to run (short by default so
`make test` stays quick, EK_SOAK_SECONDS for a soak), a publisher at a fixed rate that numbers its
messages, a consumer that counts what arrives (lost and duplicated), a Mosquitto with persistence
(so a persistent session survives its restart), and readers of a process's memory and open files.
Every process and client started here is stopped by the test that started it."""
import getpass
import json
import os
import threading
import time

import paho.mqtt.client as mqtt

from connectors_util import Mosquitto, rule_status  # noqa: F401 (rule_status re-exported)



def soak_seconds(short):
    """EK_SOAK_SECONDS when set (a soak run), otherwise the short duration of `make test`."""
    value = os.environ.get("EK_SOAK_SECONDS")
    return float(value) if value else float(short)


def rss_kb(pid):
    """Resident memory of pid in kB, from /proc."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def metric(k, rid, suffix):
    """The first metric of rule rid whose name ends with suffix (e.g. "_exceptions_total")."""
    st = rule_status(k, rid)
    for key, value in st.items():
        if key.endswith(suffix) and isinstance(value, int):
            return value
    return 0


class PersistentMosquitto(Mosquitto):
    """Mosquitto on 127.0.0.1:port with persistence in a private directory, so that a persistent
    session and its queued QoS 1 messages survive a stop and start on the same port. `user` keeps
    it from dropping to the "mosquitto" user when started as root: that user cannot write the
    private directory, so nothing was saved and a restart lost the consumer's session and queue."""

    def config(self):
        return ("listener %d 127.0.0.1\nallow_anonymous true\npersistence true\n"
                "persistence_location %s/\nautosave_interval 1\nlog_dest none\n"
                "max_queued_messages 100000\nuser %s\n" % (self.port, self.dir, getpass.getuser()))


class Consumer:
    """A paho client with a persistent session (clean_session false, QoS 1) on port, counting the
    sequence numbers ("i") of the JSON messages arriving on topic. It reconnects by itself when its
    broker goes away and comes back."""

    def __init__(self, port, topic, client_id):
        self.seen = {}
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.topic = topic
        self.c = mqtt.Client(client_id=client_id, clean_session=False, protocol=mqtt.MQTTv311)
        self.c.reconnect_delay_set(0.1, 1)
        self.c.on_connect = self._on_connect
        self.c.on_subscribe = lambda *a: self.subscribed.set()
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", port, keepalive=10)
        self.c.loop_start()
        if not self.subscribed.wait(5):
            raise RuntimeError("consumer's subscription to %s not acknowledged" % topic)

    def _on_connect(self, client, userdata, flags, rc):
        if rc == 0:
            client.subscribe(self.topic, 1)

    def _on_message(self, client, userdata, m):
        try:
            i = json.loads(m.payload)["i"]
        except (ValueError, KeyError, TypeError):
            return
        with self.lock:
            self.seen[i] = self.seen.get(i, 0) + 1

    def count(self):
        with self.lock:
            return len(self.seen)

    def report(self, n):
        """(lost, duplicates) against the numbers 0..n-1."""
        with self.lock:
            lost = [i for i in range(n) if i not in self.seen]
            dups = sum(c - 1 for c in self.seen.values())
        return lost, dups

    def wait_all(self, n, timeout):
        """Waits up to timeout for 0..n-1 to have arrived; returns (lost, duplicates) then."""
        deadline = time.time() + timeout
        while time.time() < deadline and self.count() < n:
            time.sleep(0.2)
        return self.report(n)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def ranges(numbers):
    """[1, 2, 3, 7] -> "1-3, 7": a short form of lost sequence numbers for messages."""
    out, start, prev = [], None, None
    for x in numbers:
        if start is None:
            start = prev = x
        elif x == prev + 1:
            prev = x
        else:
            out.append("%d-%d" % (start, prev) if prev != start else str(start))
            start = prev = x
    if start is not None:
        out.append("%d-%d" % (start, prev) if prev != start else str(start))
    return ", ".join(out)


class Publisher:
    """Publishes {"i": n} with QoS 1 to topic at rate messages per second from its own thread,
    numbering from 0. Paho queues what cannot be sent while the broker is away and sends it after
    reconnecting, so every number is eventually handed to the broker."""

    def __init__(self, port, topic, rate, client_id="ek-fault-pub"):
        self.topic = topic
        self.rate = rate
        self.n = 0
        self.acked = 0
        self.stop_evt = threading.Event()
        self.c = mqtt.Client(client_id=client_id, clean_session=False, protocol=mqtt.MQTTv311)
        self.c.reconnect_delay_set(0.1, 1)
        self.c.max_inflight_messages_set(100)
        self.c.on_publish = self._on_publish
        self.c.connect("127.0.0.1", port, keepalive=10)
        self.c.loop_start()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_publish(self, client, userdata, mid):
        self.acked += 1

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        period = 1.0 / self.rate
        nxt = time.time()
        while not self.stop_evt.is_set():
            self.c.publish(self.topic, json.dumps({"i": self.n}), qos=1)
            self.n += 1
            nxt += period
            delay = nxt - time.time()
            if delay > 0:
                self.stop_evt.wait(delay)

    def stop(self):
        """Stops publishing; returns how many messages were published."""
        self.stop_evt.set()
        if self.thread.is_alive():
            self.thread.join(5)
        return self.n

    def wait_acked(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline and self.acked < self.n:
            time.sleep(0.05)
        return self.acked >= self.n

    def close(self):
        self.stop()
        self.c.loop_stop()
        self.c.disconnect()
