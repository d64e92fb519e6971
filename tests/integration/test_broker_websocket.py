"""The bundled broker's WebSocket listeners (ws:// and wss://, path /mqtt, subprotocol mqtt or
mqttv3.1) with paho-mqtt over websockets (3.1, 3.1.1 and 5.0) and with a raw WebSocket client that
checks the upgrade, fragmentation, several packets per frame, a packet split across frames, ping,
the close handshake, and that every protocol violation or stalled client closes only its own
connection. Certificates for wss are made with the openssl command line. Every wait is bounded."""
import os
import queue
import shutil
import socket
import struct
import tempfile
import threading
import time
import unittest

import paho.mqtt.client as mqtt

from broker_net_util import (OP_BIN, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, WsRaw, broker_only, frame,
                             make_certs)
from harness import free_port, main
from test_broker_raw import connect_pkt, pkt, s, take_packet


def subscribe_pkt(pid, topic, qos=0, v=4):
    props = b"\x00" if v == 5 else b""
    return pkt(0x82, struct.pack(">H", pid) + props + s(topic) + bytes([qos]))


def publish_pkt(topic, payload, v=4):
    return pkt(0x30, s(topic) + (b"\x00" if v == 5 else b"") + payload)


def split_packets(data):
    """MQTT packets (first byte, body) in a byte string."""
    out = []
    while data:
        got = take_packet(data)
        assert got, "not whole MQTT packets: %r" % data
        first, body, data = got
        out.append((first, body))
    return out


class Collector:
    """A paho client (any transport) collecting payloads per topic."""

    def __init__(self, port, transport="tcp", version=mqtt.MQTTv311, tls_ca=None, path="/mqtt", cid=None, will=None):
        self.q = queue.Queue()
        self.c = mqtt.Client(client_id=cid or "", protocol=version, transport=transport,
                             clean_session=None if version == mqtt.MQTTv5 else True)
        if transport == "websockets":
            self.c.ws_set_options(path=path)
        if tls_ca:
            self.c.tls_set(ca_certs=tls_ca)
        if will:
            self.c.will_set(*will)
        connected = threading.Event()
        self.c.on_connect = lambda *a: connected.set()
        self.c.on_message = lambda cl, u, m: self.q.put((m.topic, m.payload))
        self.c.connect("127.0.0.1", port, 30)
        self.c.loop_start()
        if not connected.wait(5):
            raise AssertionError("no CONNACK on port %d over %s" % (port, transport))

    def subscribe(self, topic, qos=1):
        done = threading.Event()
        self.c.on_subscribe = lambda *a: done.set()
        self.c.subscribe(topic, qos)
        assert done.wait(5), "no SUBACK"

    def get(self, timeout=5):
        return self.q.get(timeout=timeout)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


class BrokerWebSocket(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ek-ws-")
        cls.certs = make_certs(cls.dir)
        cls.ws, cls.wss, cls.small = free_port(), free_port(), free_port()
        tls = "{certfile: %s, keyfile: %s}" % (cls.certs["server.crt"], cls.certs["server.key"])
        cls.k = broker_only(
            "    - {bind: 127.0.0.1, port: %d, websocket: true}\n"
            "    - {bind: 127.0.0.1, port: %d, websocket: true, tls: %s}\n"
            "    - {bind: 127.0.0.1, port: %d, websocket: true, path: /custom, maxFrameSize: 1024}\n"
            % (cls.ws, cls.wss, tls, cls.small),
            "  connectTimeout: 2\n").start()
        cls.tcp = cls.k.mqtt_port

    @classmethod
    def tearDownClass(cls):
        cls.k.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def assert_broker_fine(self):
        """A paho WebSocket client and a TCP client still exchange a message."""
        sub = Collector(self.ws, "websockets")
        sub.subscribe("fine/#")
        pub = Collector(self.tcp)
        pub.c.publish("fine/1", b"still here", qos=1).wait_for_publish(5)
        self.assertEqual(sub.get(), ("fine/1", b"still here"))
        sub.close()
        pub.close()

    # ---- real clients ----

    def test_paho_ws_and_wss(self):
        """paho over ws:// and wss://, MQTT 3.1.1 and 5.0, to and from a TCP client; 100 kB messages."""
        big = os.urandom(100000)
        for port, ca in ((self.ws, None), (self.wss, self.certs["ca.crt"])):
            for v in (mqtt.MQTTv311, mqtt.MQTTv5):
                with self.subTest(port=port, version=v):
                    wsc = Collector(port, "websockets", v, tls_ca=ca)
                    tcp = Collector(self.tcp)
                    wsc.subscribe("up/#")
                    tcp.subscribe("down/#")
                    tcp.c.publish("up/1", big, qos=1).wait_for_publish(5)
                    self.assertEqual(wsc.get(), ("up/1", big))
                    wsc.c.publish("down/1", b"from ws", qos=2).wait_for_publish(5)
                    self.assertEqual(tcp.get(), ("down/1", b"from ws"))
                    wsc.close()
                    tcp.close()

    def test_paho_mqtt31_subprotocol(self):
        """An MQTT 3.1 client asks for subprotocol mqttv3.1 and is served."""
        c = Collector(self.ws, "websockets", mqtt.MQTTv31, cid="old-client")
        c.subscribe("old/#")
        c.c.publish("old/x", b"31", qos=1)
        self.assertEqual(c.get(), ("old/x", b"31"))
        c.close()

    def test_custom_path(self):
        c = Collector(self.small, "websockets", path="/custom")
        c.close()
        w = WsRaw(self.small)
        status, _, _ = w.upgrade(path="/mqtt")
        self.assertEqual(status, 404)
        self.assertTrue(w.closed())

    # ---- the upgrade ----

    def test_upgrade(self):
        w = WsRaw(self.ws)
        status, h, accept = w.upgrade(path="/mqtt?client=1", protocol="chat, mqtt")
        self.assertEqual(status, 101)
        self.assertEqual(h["sec-websocket-accept"], accept)
        self.assertEqual(h["sec-websocket-protocol"], "mqtt")
        self.assertEqual(h["upgrade"].lower(), "websocket")
        w.close()
        w = WsRaw(self.ws)
        self.assertEqual(w.upgrade(protocol="mqttv3.1")[1]["sec-websocket-protocol"], "mqttv3.1")
        w.close()
        for kwargs, want in (({"path": "/nope"}, 404), ({"protocol": None}, 400), ({"protocol": "chat"}, 400),
                             ({"key": "short"}, 400)):
            w = WsRaw(self.ws)
            status, _, _ = w.upgrade(**kwargs)
            self.assertEqual(status, want, kwargs)
            self.assertTrue(w.closed(), kwargs)
        w = WsRaw(self.ws)
        status, h, _ = w.upgrade(version="8")
        self.assertEqual((status, h.get("sec-websocket-version")), (426, "13"))
        self.assertTrue(w.closed())

    def test_plain_mqtt_on_ws_port_refused(self):
        """MQTT bytes without an upgrade get an HTTP error, not a CONNACK."""
        w = WsRaw(self.ws)
        w.send(connect_pkt(b"no-upgrade", v=4) + b"\r\n\r\n")
        w.sock.settimeout(5)
        data = w.sock.recv(4096)
        self.assertTrue(data.startswith(b"HTTP/1.1 400"), data[:40])
        self.assertTrue(w.closed())

    # ---- framing ----

    def open_mqtt(self, cid, v=4, port=None, keepalive=60):
        w = WsRaw(port or self.ws)
        self.assertEqual(w.upgrade()[0], 101)
        w.send(frame(OP_BIN, connect_pkt(cid, v=v, keepalive=keepalive)))
        first, body = split_packets(w.read_binary())[0]
        self.assertEqual((first, body[1]), (0x20, 0))
        return w

    def test_fragmented_connect_with_ping_between(self):
        c = connect_pkt(b"frag", v=4)
        w = WsRaw(self.ws)
        self.assertEqual(w.upgrade()[0], 101)
        w.send(frame(OP_BIN, c[:3], fin=False))
        w.send(frame(OP_CONT, c[3:10], fin=False))
        w.send(frame(OP_PING, b"are you there"))
        w.send(frame(OP_CONT, c[10:], fin=True))
        self.assertEqual(w.read_frame(), (True, OP_PONG, b"are you there"))
        self.assertEqual(split_packets(w.read_binary()), [(0x20, b"\x00\x00")])
        w.close()

    def test_several_packets_per_frame_and_packet_across_frames(self):
        w = self.open_mqtt(b"multi")
        many = subscribe_pkt(1, b"m/#") + publish_pkt(b"m/1", b"one") + pkt(0xC0, b"")
        w.send(frame(OP_BIN, many))
        got = b""
        want = [0x90, 0x30, 0xD0]
        while len(split_packets(got)) < 3:
            got += w.read_binary()
        self.assertEqual([p[0] for p in split_packets(got)], want)
        self.assertEqual(split_packets(got)[1][1], s(b"m/1") + b"one")
        # One PUBLISH cut in three separate binary messages.
        p = publish_pkt(b"m/2", b"x" * 300)
        w.send(frame(OP_BIN, p[:2]) + frame(OP_BIN, p[2:150]))
        time.sleep(0.2)
        w.send(frame(OP_BIN, p[150:]))
        self.assertEqual(split_packets(w.read_binary()), [(0x30, s(b"m/2") + b"x" * 300)])
        w.close()

    def test_close_handshake_and_will(self):
        watcher = Collector(self.tcp)
        watcher.subscribe("will/#")
        # A close frame without DISCONNECT: echoed, TCP closed, will published.
        w = WsRaw(self.ws)
        self.assertEqual(w.upgrade()[0], 101)
        will_flags = 0x02 | 0x04 | 0x08  # clean, will, will QoS 1
        body = s(b"MQTT") + bytes([4, will_flags]) + struct.pack(">H", 60) + s(b"dies") + s(b"will/dies") + s(b"gone")
        w.send(frame(OP_BIN, pkt(0x10, body)))
        self.assertEqual(split_packets(w.read_binary())[0][0], 0x20)
        w.send(frame(OP_CLOSE, struct.pack(">H", 1001) + b"bye"))
        self.assertEqual(w.close_code(), 1001)
        self.assertTrue(w.closed())
        self.assertEqual(watcher.get(), ("will/dies", b"gone"))
        # DISCONNECT then close in one write: no will.
        w = WsRaw(self.ws)
        self.assertEqual(w.upgrade()[0], 101)
        body = s(b"MQTT") + bytes([4, will_flags]) + struct.pack(">H", 60) + s(b"polite") + s(b"will/polite") + s(b"x")
        w.send(frame(OP_BIN, pkt(0x10, body)))
        self.assertEqual(split_packets(w.read_binary())[0][0], 0x20)
        w.send(frame(OP_BIN, pkt(0xE0, b"")) + frame(OP_CLOSE, struct.pack(">H", 1000)))
        self.assertEqual(w.close_code(), 1000)
        self.assertTrue(w.closed())
        self.assertRaises(queue.Empty, watcher.get, 1)
        watcher.close()

    def test_v5_malformed_packet_in_frame(self):
        """A bad MQTT packet inside a good frame: DISCONNECT 0x81 in a binary frame, then close."""
        w = self.open_mqtt(b"bad5", v=5)
        w.send(frame(OP_BIN, bytes([0x30, 0x02, 0x00, 0x05])))  # topic length beyond the packet
        first, body = split_packets(w.read_binary())[0]
        self.assertEqual((first, body[0]), (0xE0, 0x81))
        self.assertEqual(w.close_code(), 1000)
        self.assertTrue(w.closed())

    def test_bad_frames_close_only_that_connection(self):
        bystander = Collector(self.ws, "websockets", cid="bystander")
        bystander.subscribe("by/#")
        cases = [
            ("unmasked", frame(OP_BIN, pkt(0xC0, b""), mask=False), 1002),
            ("text", frame(OP_TEXT, b"hello"), 1003),
            ("reserved bit", frame(OP_BIN, pkt(0xC0, b""), rsv=0x40), 1002),
            ("continuation first", frame(OP_CONT, pkt(0xC0, b"")), 1002),
            ("unknown opcode", frame(3, b""), 1002),
            ("fragmented ping", frame(OP_PING, b"", fin=False), 1002),
            ("long ping", frame(OP_PING, b"x" * 126), 1002),
            ("one-byte close", frame(OP_CLOSE, b"\x03"), 1002),
            ("bad close code", frame(OP_CLOSE, struct.pack(">H", 1005)), 1002),
            ("new message inside fragments", frame(OP_BIN, b"\xc0", fin=False) + frame(OP_BIN, b"\x00"), 1002),
            ("64-bit length with top bit", bytes([0x82, 0xFF]) + b"\x80" + b"\x00" * 7 + b"abcd", 1002),
        ]
        for name, data, code in cases:
            with self.subTest(name):
                w = self.open_mqtt(name.encode().replace(b" ", b"-"))
                w.send(data)
                self.assertEqual(w.close_code(), code)
                self.assertTrue(w.closed())
        # Over maxFrameSize (1024 on that listener): 1009, before the payload arrives.
        w = WsRaw(self.small)
        self.assertEqual(w.upgrade(path="/custom")[0], 101)
        w.send(frame(OP_BIN, b"\x00" * 2000)[:20])
        self.assertEqual(w.close_code(), 1009)
        self.assertTrue(w.closed())
        pub = Collector(self.tcp)
        pub.c.publish("by/1", b"unaffected", qos=1).wait_for_publish(5)
        self.assertEqual(bystander.get(), ("by/1", b"unaffected"))
        pub.close()
        bystander.close()

    # ---- stalled clients ----

    def test_ws_reader_that_never_reads(self):
        """A WebSocket subscriber that reads nothing while 4 MB are published to it holds up nobody."""
        slow = self.open_mqtt(b"never-reads")
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.send(frame(OP_BIN, subscribe_pkt(1, b"flood")))
        self.assertEqual(split_packets(slow.read_binary())[0][0], 0x90)
        flooder = socket.create_connection(("127.0.0.1", self.tcp), timeout=5)
        flooder.sendall(connect_pkt(b"flooder", v=4))
        burst = b"".join(publish_pkt(b"flood", b"x" * 2000) for _ in range(200))
        for _ in range(10):
            flooder.sendall(burst)
        self.assert_broker_fine()
        flooder.close()
        slow.close()

    def test_slow_clients_are_closed_and_harm_nobody(self):
        # Half an upgrade request, never finished.
        half = WsRaw(self.ws, timeout=8)
        half.send(b"GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
        # An upgrade request trickled a byte at a time: connectTimeout counts from the accept.
        trickle = WsRaw(self.ws, timeout=8)
        stop = threading.Event()

        def drip():
            for b in b"GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" * 10:
                if stop.wait(0.3):
                    return
                try:
                    trickle.sock.send(bytes([b]))
                except OSError:
                    return
        t = threading.Thread(target=drip)
        t.start()
        # Upgraded and connected (keep alive 2 s), then a frame header that never completes.
        partial = self.open_mqtt(b"partial", keepalive=2)
        partial.sock.settimeout(8)
        partial.send(frame(OP_BIN, publish_pkt(b"p/1", b"x" * 500))[:5])
        # Meanwhile everyone else is served.
        self.assert_broker_fine()
        start = time.time()
        self.assertTrue(half.closed(), "a half upgrade was not closed")
        self.assertTrue(trickle.closed(), "a trickled upgrade was not closed")
        stop.set()
        t.join(5)
        self.assertLess(time.time() - start, 6)
        self.assertTrue(partial.closed(), "a client stuck in a frame was not closed after its keep alive")
        self.assert_broker_fine()


if __name__ == "__main__":
    main()
