"""The broker's features working together across its transports, after the routing, security,
overload/management and transport branches were merged: a WebSocket and a TLS client in one $share
group under a strategy; a PBKDF2 user of the configuration logging in over TLS and WebSocket, also
with SUBSCRIBE and PUBLISH sent in the same TLS record / WebSocket frame as the CONNECT (they wait
for the asynchronous password check, then run); the ACL's %u on a topic the rewrite rules changed;
kicking WebSocket and TLS clients over REST; a banned client id over WebSocket; the management
listing of the transport and peer of each client; auto-subscribe after the password check; a
session taken over across transports; a ban added while a client's password is being checked;
maxMessageRate for a WebSocket client; a $delayed message going out through a bridge forward rule.
Real clients (paho-mqtt, Mosquitto) and raw sockets; every wait is
bounded."""
import os
import queue
import shutil
import socket
import ssl
import struct
import tempfile
import threading
import time
import unittest

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker_net_util import OP_BIN, WsRaw, broker_only, frame, kuiper_yaml, make_certs
from connectors_util import Listener, Mosquitto
from harness import Kuiperd, free_port, main, wait_for
from test_broker_raw import connect_pkt, pkt, take_packet
from test_broker_userdb import pbkdf2

CAROL_PW = "carol-secret"
# A user whose PBKDF2 hash takes a good part of a second to check (2,000,000 iterations): a window
# in which to act on a client whose CONNECT waits for its password check.
SLOW_PW = "slow-secret"


def s(x):
    """An MQTT string (str or bytes)."""
    x = x.encode() if isinstance(x, str) else x
    return struct.pack(">H", len(x)) + x


def connect_user(cid, user, password, v=4):
    """A CONNECT with user name and password (MQTT 3.1.1 or 5)."""
    body = s(b"MQTT") + bytes([v, 0xC2]) + struct.pack(">H", 60)
    if v == 5:
        body += b"\x00"
    return pkt(0x10, body + s(cid) + s(user) + s(password))


def subscribe_pkt(pid, topic, qos=0):
    return pkt(0x82, struct.pack(">H", pid) + s(topic) + bytes([qos]))


def publish_pkt(topic, payload):
    return pkt(0x30, s(topic) + payload)


class PacketReader:
    """MQTT packets (type nibble, body) from a byte source: recv() returns bytes, b"" at the end."""

    def __init__(self, recv):
        self.recv = recv
        self.buf = b""

    def packet(self):
        while True:
            got = take_packet(self.buf)
            if got:
                first, body, self.buf = got
                return first >> 4, body
            data = self.recv()
            if not data:
                return None
            self.buf += data


def tls_socket(port, ca):
    ctx = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


class Client:
    """A paho client over tcp, tls or websockets that waits for its CONNACK and collects messages
    and the reason codes of its disconnections."""

    def __init__(self, port, transport="tcp", ca=None, cid="", v5=False, user=None, password=None, expiry=None):
        self.q = queue.Queue()
        self.disconnects = []
        self.rc = None
        proto = mqtt.MQTTv5 if v5 else mqtt.MQTTv311
        self.c = mqtt.Client(client_id=cid, protocol=proto,
                             transport="websockets" if transport.startswith("ws") else "tcp",
                             **({} if v5 else {"clean_session": True}))
        self.c.reconnect_delay_set(min_delay=60, max_delay=60)
        if ca:
            self.c.tls_set(ca_certs=ca)
        if user:
            self.c.username_pw_set(user, password)
        answered = threading.Event()

        def on_connect(cl, u, flags, rc, p=None):
            self.rc = getattr(rc, "value", rc)
            answered.set()

        self.c.on_connect = on_connect
        self.c.on_disconnect = lambda cl, u, rc, p=None: self.disconnects.append(getattr(rc, "value", rc))
        self.c.on_message = lambda cl, u, m: self.q.put((m.topic, m.payload))
        if expiry is not None:  # MQTT 5, a session kept for expiry seconds
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = expiry
            self.c.connect("127.0.0.1", port, 30, clean_start=False, properties=props)
        else:
            self.c.connect("127.0.0.1", port, 30)
        self.c.loop_start()
        assert answered.wait(10), "no CONNACK on port %d over %s" % (port, transport)

    def subscribe(self, topic, qos=1):
        done = threading.Event()
        self.c.on_subscribe = lambda *a: done.set()
        self.c.subscribe(topic, qos)
        assert done.wait(5), "no SUBACK"

    def drain(self, wait=0.0):
        time.sleep(wait)
        out = []
        while True:
            try:
                out.append(self.q.get_nowait())
            except queue.Empty:
                return out

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


BROKER = """broker:
  sysInterval: 0
  allowAnonymous: true
  connectTimeout: 20
  sharedSubscriptionStrategy: round_robin
  listeners:
    - {bind: 127.0.0.1, port: %(tcp)d}
    - {bind: 127.0.0.1, port: %(tls)d, tls: %(tlscfg)s}
    - {bind: 127.0.0.1, port: %(ws)d, websocket: true}
    - {bind: 127.0.0.1, port: %(wss)d, websocket: true, tls: %(tlscfg)s}
  autoSubscribe:
    - {topic: "users/${username}/inbox", qos: 1}
    - {topic: "hosts/${host}/${clientid}", qos: 1}
  users:
    - {username: carol, passwordPbkdf2: "%(hash)s"}
    - {username: slow, passwordPbkdf2: "%(slowhash)s"}
  rewrite:
    - {action: publish, source: "dev/#", re: "^dev/(.+)$", dest: "home/$1"}
  acl:
    - {permission: allow, action: publish, topic: "home/%%u/#"}
    - {permission: deny, action: publish, topic: "home/#"}
"""


class Combined(unittest.TestCase):
    """One full kuiperd (REST on) with TCP, TLS, WebSocket and secure WebSocket listeners."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ek-comb-")
        cls.certs = make_certs(cls.dir)
        cls.ca = cls.certs["ca.crt"]
        cls.k = Kuiperd()
        cls.tls, cls.ws, cls.wss = free_port(), free_port(), free_port()
        text = BROKER % {"tcp": cls.k.mqtt_port, "tls": cls.tls, "ws": cls.ws, "wss": cls.wss,
                         "tlscfg": "{certfile: %s, keyfile: %s}" % (cls.certs["server.crt"], cls.certs["server.key"]),
                         "hash": pbkdf2(CAROL_PW, iterations=20000),
                         "slowhash": pbkdf2(SLOW_PW, iterations=2000000)}
        with open(os.path.join(cls.k.etc, "kuiper.yaml"), "w") as f:
            f.write(kuiper_yaml(text))
        cls.k.start()

    @classmethod
    def tearDownClass(cls):
        cls.k.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def client(self, port, transport="tcp", **kw):
        c = Client(port, transport, ca=self.ca if transport in ("tls", "wss") else None, **kw)
        self.addCleanup(c.close)
        return c

    def test_shared_group_ws_and_tls_round_robin(self):
        ws = self.client(self.ws, "ws", cid="share-ws")
        tls = self.client(self.tls, "tls", cid="share-tls")
        ws.subscribe("$share/g1/sh/#")
        tls.subscribe("$share/g1/sh/#")
        pub = self.client(self.k.mqtt_port, cid="share-pub")
        for i in range(10):
            pub.c.publish("sh/%d" % i, b"m%d" % i, qos=1).wait_for_publish(5)
        got = {"ws": [], "tls": []}
        wait_for(lambda: (got["ws"].extend(ws.drain()), got["tls"].extend(tls.drain()),
                          len(got["ws"]) + len(got["tls"]) >= 10)[-1], timeout=10, what="10 shared messages")
        time.sleep(0.3)
        got["ws"] += ws.drain()
        got["tls"] += tls.drain()
        topics = sorted(t for t, _ in got["ws"] + got["tls"])
        self.assertEqual(topics, sorted("sh/%d" % i for i in range(10)), "each message once to the group")
        self.assertEqual((len(got["ws"]), len(got["tls"])), (5, 5), "round_robin alternates the two members")

    def test_pbkdf2_user_over_tls_and_websocket(self):
        for port, transport in ((self.tls, "tls"), (self.ws, "ws"), (self.wss, "wss")):
            ok = self.client(port, transport, cid="carol-" + transport, user="carol", password=CAROL_PW)
            self.assertEqual(ok.rc, 0, transport)
            bad = self.client(port, transport, cid="carol-bad-" + transport, user="carol", password="nope")
            self.assertEqual(bad.rc, 4, "wrong password over %s: bad user name or password" % transport)

    def pipelined(self, send, reader, cid, password, v=4, count=1, size=11):
        """CONNECT + SUBSCRIBE + count PUBLISHes written at once; returns the packets read back
        (at most 2 + count)."""
        topic = "echo/" + cid
        pubs = b"".join(publish_pkt(topic, b"%06d" % i + b"." * (size - 6)) for i in range(count))
        send(connect_user(cid, "carol", password, v) + subscribe_pkt(1, topic) + pubs)
        out = []
        while len(out) < 2 + count:
            try:
                p = reader.packet()
            except (socket.timeout, ssl.SSLError, OSError, EOFError):
                break
            if p is None:
                break
            out.append(p)
        return out

    def assert_pipelined_ok(self, packets, cid, count=1, size=11):
        self.assertEqual([t for t, _ in packets[:2]], [2, 9], "CONNACK, then SUBACK")
        self.assertEqual(packets[0][1][1], 0)
        self.assertEqual(len(packets), 2 + count, "every pipelined PUBLISH echoed")
        for i, (t, body) in enumerate(packets[2:]):
            n = struct.unpack(">H", body[:2])[0]
            self.assertEqual((t, body[2:2 + n].decode(), body[2 + n:2 + n + 6], len(body) - 2 - n),
                             (3, "echo/" + cid, b"%06d" % i, size))

    def test_pipelined_after_password_check_tls(self):
        """The password check pauses reading; the SUBSCRIBE and PUBLISH that came in the same TLS
        record as the CONNECT are handled once it succeeds, and dropped when it fails."""
        sock = tls_socket(self.tls, self.ca)
        self.addCleanup(sock.close)
        got = self.pipelined(sock.sendall, PacketReader(lambda: sock.recv(65536)), "pipe-tls", CAROL_PW)
        self.assert_pipelined_ok(got, "pipe-tls")
        # 400 kB after the CONNECT: several TLS records, more than one read of the broker.
        big = tls_socket(self.tls, self.ca)
        self.addCleanup(big.close)
        got = self.pipelined(big.sendall, PacketReader(lambda: big.recv(65536)), "pipe-tls-big", CAROL_PW,
                             count=400, size=1000)
        self.assert_pipelined_ok(got, "pipe-tls-big", 400, 1000)
        sock2 = tls_socket(self.tls, self.ca)
        self.addCleanup(sock2.close)
        got = self.pipelined(sock2.sendall, PacketReader(lambda: sock2.recv(65536)), "pipe-tls-bad", "wrong")
        self.assertEqual([(t, b[1]) for t, b in got[:1]], [(2, 4)])
        self.assertEqual(len(got), 1, "nothing after the refusal")

    def test_pipelined_after_password_check_websocket(self):
        for port, wss in ((self.ws, False), (self.wss, True)):
            w = WsRaw(port)
            self.addCleanup(w.close)
            if wss:
                w.sock = ssl.create_default_context(cafile=self.ca).wrap_socket(w.sock, server_hostname="127.0.0.1")
            self.assertEqual(w.upgrade()[0], 101)
            cid = "pipe-wss" if wss else "pipe-ws"
            reader = PacketReader(lambda: w.read_binary())
            got = self.pipelined(lambda d: w.send(frame(OP_BIN, d)), reader, cid, CAROL_PW, v=4)
            self.assert_pipelined_ok(got, cid)
            # 400 kB in one frame after the CONNECT.
            w = WsRaw(port)
            self.addCleanup(w.close)
            if wss:
                w.sock = ssl.create_default_context(cafile=self.ca).wrap_socket(w.sock, server_hostname="127.0.0.1")
            self.assertEqual(w.upgrade()[0], 101)
            reader = PacketReader(lambda: w.read_binary())
            got = self.pipelined(lambda d: w.send(frame(OP_BIN, d)), reader, cid + "-big", CAROL_PW, count=400,
                                 size=1000)
            self.assert_pipelined_ok(got, cid + "-big", 400, 1000)

    def test_acl_user_placeholder_on_rewritten_topic(self):
        """dev/<x>/... is rewritten to home/<x>/...; the ACL's home/%u/# then lets carol publish
        under home/carol only, whichever transport she uses."""
        sub = self.client(self.k.mqtt_port, cid="acl-sub")
        sub.subscribe("home/#")
        for port, transport in ((self.ws, "ws"), (self.tls, "tls")):
            carol = self.client(port, transport, cid="acl-carol-" + transport, user="carol", password=CAROL_PW)
            for topic in ("dev/bob/t", "home/bob/t", "dev/carol/" + transport):
                carol.c.publish(topic, transport.encode(), qos=1).wait_for_publish(5)
            first = sub.q.get(timeout=5)
            self.assertEqual(first, ("home/carol/" + transport, transport.encode()))
        self.assertEqual(sub.drain(0.3), [], "nothing reached home/bob")

    def test_auto_subscribe_after_password_check(self):
        """autoSubscribe runs when the asynchronous password check accepts the client, with its
        user name, address and client id, over TLS and WebSocket alike."""
        pub = self.client(self.k.mqtt_port, cid="auto-pub")
        for port, transport in ((self.tls, "tls"), (self.ws, "ws"), (self.wss, "wss")):
            cid = "auto-" + transport
            carol = self.client(port, transport, cid=cid, user="carol", password=CAROL_PW)
            wait_for(lambda: [r for r in self.clients(cid) if r["subscriptions_cnt"] == 2], timeout=5,
                     what="the two auto-subscriptions of " + cid)
            pub.c.publish("users/carol/inbox", transport.encode(), qos=1).wait_for_publish(5)
            pub.c.publish("hosts/127.0.0.1/" + cid, b"host", qos=1).wait_for_publish(5)
            self.assertEqual(sorted([carol.q.get(timeout=5), carol.q.get(timeout=5)]),
                             sorted([("users/carol/inbox", transport.encode()), ("hosts/127.0.0.1/" + cid, b"host")]))
            carol.close()

    def test_takeover_across_transports(self):
        """A client id taken over from TLS by WebSocket (and back) keeps its persistent session:
        the old connection gets DISCONNECT 0x8E, queued messages reach the new one."""
        first = Client(self.tls, "tls", ca=self.ca, cid="roam", v5=True, expiry=60)
        self.addCleanup(first.close)
        first.subscribe("roam/#", 1)
        second = self.client(self.ws, "ws", cid="roam", v5=True, expiry=60)
        wait_for(lambda: first.disconnects, timeout=5, what="the TLS connection taken over")
        self.assertEqual(first.disconnects[0], 0x8E, "DISCONNECT Session taken over")
        pub = self.client(self.k.mqtt_port, cid="roam-pub")
        pub.c.publish("roam/1", b"to-ws", qos=1).wait_for_publish(5)
        self.assertEqual(second.q.get(timeout=5), ("roam/1", b"to-ws"), "the subscription moved with the session")
        third = self.client(self.tls, "tls", cid="roam", v5=True, expiry=0)
        wait_for(lambda: second.disconnects, timeout=5, what="the WebSocket connection taken over")
        self.assertEqual(second.disconnects[0], 0x8E)
        pub.c.publish("roam/2", b"to-tls", qos=1).wait_for_publish(5)
        self.assertEqual(third.q.get(timeout=5), ("roam/2", b"to-tls"))
        self.assertEqual([r["transport"] for r in self.clients("roam")], ["tls"])

    def clients(self, cid):
        st, out = self.k.request("GET", "/broker/clients?clientid=" + cid)
        self.assertEqual(st, 200, out)
        return out["data"]

    def test_kick_websocket_and_tls_clients(self):
        for port, transport in ((self.ws, "ws"), (self.tls, "tls"), (self.wss, "wss")):
            cid = "kick-" + transport
            c = self.client(port, transport, cid=cid, v5=True)
            self.assertEqual([r["connected"] for r in self.clients(cid)], [True])
            st, _ = self.k.request("DELETE", "/broker/clients/" + cid)
            self.assertEqual(st, 204)
            wait_for(lambda: c.disconnects, timeout=5, what="%s client disconnected" % transport)
            self.assertEqual(c.disconnects[0], 0x98, "MQTT 5: DISCONNECT Administrative action")
            wait_for(lambda: not any(r["connected"] for r in self.clients(cid)), timeout=5, what="gone from the list")

    def test_banned_clientid_over_websocket(self):
        st, out = self.k.request("POST", "/broker/banned", {"as": "clientid", "who": "ban-ws"})
        self.assertEqual(st, 201, out)
        self.addCleanup(self.k.request, "DELETE", "/broker/banned/clientid/ban-ws")
        for v, code in ((5, 0x8A), (4, 5)):
            w = WsRaw(self.ws)
            self.addCleanup(w.close)
            self.assertEqual(w.upgrade()[0], 101)
            w.send(frame(OP_BIN, connect_pkt(b"ban-ws", v=v)))
            t, body = PacketReader(lambda: w.read_binary()).packet()
            self.assertEqual((t, body[1]), (2, code), "CONNACK refusal for MQTT %d" % v)
        # A WebSocket client connected when its ban is added is disconnected at once.
        c = self.client(self.ws, "ws", cid="ban-ws-later", v5=True)
        st, _ = self.k.request("POST", "/broker/banned", {"as": "clientid", "who": "ban-ws-later"})
        self.addCleanup(self.k.request, "DELETE", "/broker/banned/clientid/ban-ws-later")
        self.assertEqual(st, 201)
        wait_for(lambda: c.disconnects, timeout=5, what="banned WebSocket client disconnected")
        self.assertEqual(c.disconnects[0], 0x98)
        # Others on the same listener are unaffected.
        self.assertEqual(self.client(self.ws, "ws", cid="not-banned").rc, 0)

    def test_ban_added_during_password_check(self):
        """A ban added while a client's CONNECT waits for its password check applies when the check
        ends: CONNACK 5 (not authorized), not an accepted client that the ban never kicks."""
        for kind, cid, v, code in (("clientid", "ban-pending", 4, 5), ("username", "ban-pending-u", 5, 0x8A)):
            who = cid if kind == "clientid" else "slow"
            sock = tls_socket(self.tls, self.ca)
            self.addCleanup(sock.close)
            sock.settimeout(30)
            sock.sendall(connect_user(cid, "slow", SLOW_PW, v))
            time.sleep(0.1)  # the broker has the CONNECT; its check takes longer
            st, out = self.k.request("POST", "/broker/banned", {"as": kind, "who": who})
            self.assertEqual(st, 201, out)
            self.addCleanup(self.k.request, "DELETE", "/broker/banned/%s/%s" % (kind, who))
            t, body = PacketReader(lambda: sock.recv(65536)).packet()
            self.assertEqual((t, body[1]), (2, code), "banned while its password was checked (%s)" % kind)
            self.assertEqual(self.clients(cid), [], "no session for the banned client")

    def test_management_lists_transport_and_peer(self):
        listed = {}
        for port, transport in ((self.k.mqtt_port, "tcp"), (self.tls, "tls"), (self.ws, "ws"), (self.wss, "wss")):
            cid = "list-" + transport
            c = self.client(port, transport, cid=cid)
            sock = c.c.socket()
            local = getattr(sock, "_socket", sock).getsockname()  # paho wraps a WebSocket's socket
            rows = self.clients(cid)
            self.assertEqual(len(rows), 1)
            row = rows[0]
            self.assertEqual((row["ip_address"], row["port"]), (local[0], local[1]), "the peer of %s" % transport)
            self.assertEqual(row["proto_ver"], 4)
            listed[transport] = row["transport"]
        self.assertEqual(listed, {"tcp": "tcp", "tls": "tls", "ws": "ws", "wss": "wss"})


class RateOverWebSocket(unittest.TestCase):
    """maxMessageRate applies to a client on a WebSocket listener as to one on TCP."""

    def test_message_rate_ws(self):
        ws = free_port()
        k = broker_only("    - {bind: 127.0.0.1, port: %d, websocket: true}\n" % ws,
                        "  maxMessageRate: 5\n").start()
        self.addCleanup(k.cleanup)
        slow = Client(ws, "ws", cid="rate-slow", v5=True)
        self.addCleanup(slow.close)
        fast = Client(ws, "ws", cid="rate-fast", v5=True)
        self.addCleanup(fast.close)
        for i in range(60):
            if fast.disconnects:
                break
            fast.c.publish("rate/fast", b"x", qos=0)
            time.sleep(0.005)
        wait_for(lambda: fast.disconnects, timeout=5, what="the flooding WebSocket client disconnected")
        self.assertEqual(fast.disconnects[0], 0x96, "DISCONNECT Message rate too high")
        # A WebSocket client within the rate stays connected.
        slow.subscribe("rate/slow", 1)
        slow.c.publish("rate/slow", b"ok", qos=1).wait_for_publish(5)
        self.assertEqual(slow.q.get(timeout=5), ("rate/slow", b"ok"))
        self.assertEqual(slow.disconnects, [])
        # Over raw WebSocket with MQTT 3.1.1 the connection is closed (no DISCONNECT in 3.1.1).
        w = WsRaw(ws)
        self.addCleanup(w.close)
        self.assertEqual(w.upgrade()[0], 101)
        w.send(frame(OP_BIN, connect_pkt(b"rate-v3", v=4) + publish_pkt("rate/v3", b"y") * 40))
        self.assertEqual(PacketReader(lambda: w.read_binary()).packet()[0], 2)
        self.assertTrue(w.closed(), "3.1.1 client over the rate closed")


class DelayedThroughBridge(unittest.TestCase):
    """A $delayed/<s>/<topic> message is forwarded by a bridge rule matching <topic>, after the
    delay and under the plain topic; the $delayed name itself never leaves."""

    def test_delayed_forwarded(self):
        mosq = Mosquitto().start()
        self.addCleanup(mosq.cleanup)
        remote = Listener(mosq.port, "#")
        self.addCleanup(remote.close)
        k = broker_only("", "  bridges:\n    - name: cloud\n      server: tcp://127.0.0.1:%d\n"
                        "      reconnectMax: 1\n      forward:\n        - {local: \"a/#\", remotePrefix: \"edge1/\"}\n"
                        "        - {local: \"#\", remotePrefix: \"all/\"}\n" % mosq.port).start()
        self.addCleanup(k.cleanup)
        pub = Client(k.mqtt_port, cid="delayed-pub")
        self.addCleanup(pub.close)

        def probe():
            pub.c.publish("a/probe", b"p", qos=1).wait_for_publish(5)
            return remote.messages("edge1/a/probe")

        wait_for(probe, timeout=15, interval=0.3, what="the bridge forwarding")
        pub.c.publish("$delayed/2/a/late", b"later", qos=1).wait_for_publish(5)
        sent = time.time()
        time.sleep(1)
        self.assertEqual(remote.messages("edge1/a/late"), [], "held for its delay, not forwarded at once")
        wait_for(lambda: remote.messages("edge1/a/late"), timeout=10, what="the delayed message at the remote")
        self.assertGreaterEqual(time.time() - sent, 1.5)
        self.assertEqual(remote.messages("edge1/a/late"), ["later"])
        self.assertEqual(remote.messages("all/a/late"), ["later"])
        self.assertEqual([t for t, _ in remote.got if "$delayed" in t], [], "the $delayed name stays local")


if __name__ == "__main__":
    main()
