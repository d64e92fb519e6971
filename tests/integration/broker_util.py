"""Helpers shared by the broker management and overload tests (test_broker_mgmt.py,
test_broker_overload.py): paho clients that connect and wait for their CONNACK, a watcher that keeps
the latest $SYS figures, and a raw MQTT 5 session (from test_broker_raw.py) for the cases where the
exact packets matter."""
import threading

import paho.mqtt.client as mqtt

from harness import wait_for
from test_broker_raw import Raw, connect_pkt, pkt, s, varint  # noqa: F401 (re-exported)

SYS = "$SYS/brokers/kuiperd/"


def client(port, cid, v5=False, username=None, will=None, clean=True, props=None):
    """A connected paho client running its network loop; it does not reconnect on its own, so a
    test sees a kick or a refusal as it happened. on_disconnect records the reason codes."""
    proto = mqtt.MQTTv5 if v5 else mqtt.MQTTv311
    c = mqtt.Client(client_id=cid, protocol=proto, **({} if v5 else {"clean_session": clean}))
    c.reconnect_delay_set(min_delay=60, max_delay=60)
    if username:
        c.username_pw_set(username)
    if will:
        c.will_set(*will)
    c.connected = threading.Event()
    c.disconnects = []
    c.messages = []
    c.flags = {}

    def on_connect(cl, u, flags, rc, p=None):
        c.flags = flags
        c.connected.set()

    c.on_connect = on_connect
    c.on_disconnect = lambda cl, u, rc, p=None: c.disconnects.append(rc)
    c.on_message = lambda cl, u, m: c.messages.append(m)
    c.subacks = {}
    c.on_subscribe = lambda cl, u, mid, granted, p=None: c.subacks.__setitem__(mid, granted)
    if v5:
        c.connect("127.0.0.1", port, clean_start=clean, properties=props)
    else:
        c.connect("127.0.0.1", port)
    c.loop_start()
    assert c.connected.wait(5), "client %s got no CONNACK" % cid
    return c


def subscribe(c, *args, **kwargs):
    """Subscribes and waits for the SUBACK; returns the granted QoS or reason codes."""
    rc, mid = c.subscribe(*args, **kwargs)
    assert rc == 0, "subscribe failed: %d" % rc
    wait_for(lambda: mid in c.subacks, timeout=5, what="SUBACK")
    return [getattr(g, "value", g) for g in c.subacks[mid]]


def stop(*clients):
    for c in clients:
        c.disconnect()
        c.loop_stop()


class SysWatcher:
    """Keeps the latest value of every $SYS/brokers/kuiperd/... topic (kuiperd needs a short
    broker.sysInterval for the values to move quickly)."""

    def __init__(self, port):
        self.values = {}
        self.c = client(port, "sys-watcher")
        self.c.on_message = self._on_message
        self.c.subscribe(SYS + "#")

    def _on_message(self, cl, u, m):
        self.values[m.topic[len(SYS):]] = m.payload.decode()

    def figure(self, name):
        return int(self.values.get(name, "-1"))

    def wait(self, name, value, timeout=10):
        """Waits until $SYS/brokers/kuiperd/<name> reads value."""
        wait_for(lambda: self.figure(name) == value, timeout=timeout,
                 what="$SYS %s = %s (now %s)" % (name, value, self.values.get(name)))

    def close(self):
        stop(self.c)


def raw_session(port, cid, props=b""):
    """A raw MQTT 5 connection past its CONNACK."""
    c = Raw(port)
    c.send(connect_pkt(cid, 5, props=props))
    t, _, body = c.recv_packet()
    assert t == 2 and body[1] == 0, "CONNACK %r" % (body,)
    return c


def raw_subscribe(c, pid, filt, opts=1):
    """Sends SUBSCRIBE (MQTT 5) and returns the SUBACK's reason codes."""
    c.send(pkt(0x82, bytes([pid >> 8, pid & 255]) + varint(0) + s(filt) + bytes([opts])))
    t, _, body = c.recv_packet()
    assert t == 9, "expected SUBACK, got %d" % t
    return list(body[3:])


def assert_clean_stop(test, k):
    """kuiperd exits 0 on SIGTERM (under the sanitizers: also without a leak or a memory error)."""
    test.assertEqual(k.stop(), 0, "kuiperd did not stop cleanly:\n" + k.output()[-4000:])
