"""The bundled broker against hostile and broken clients, over raw sockets on 127.0.0.1: each
malformed, oversized or out-of-order packet closes only that connection, with the MQTT 5 reason
code (DISCONNECT) or 3.1.1 CONNACK code the specification asks for, while a well-behaved client on
the same broker keeps working; silent and half-open connections are reaped; a client that never
reads does not slow the others down. Every wait is bounded."""
import socket
import struct
import time
import unittest

from harness import Kuiperd, main


def s(b):
    return struct.pack(">H", len(b)) + b


def varint(n):
    out = b""
    while True:
        d, n = n % 128, n // 128
        out += bytes([d | (0x80 if n else 0)])
        if not n:
            return out


def pkt(first, body):
    return bytes([first]) + varint(len(body)) + body


def connect_pkt(cid, v=5, keepalive=60, clean=True, props=b""):
    flags = 0x02 if clean else 0
    body = s(b"MQTT") + bytes([v, flags]) + struct.pack(">H", keepalive)
    if v == 5:
        body += varint(len(props)) + props
    return pkt(0x10, body + s(cid))


def take_packet(buf):
    """(first byte, body, the bytes after it) when buf starts with a whole MQTT packet, else None."""
    if len(buf) < 2:
        return None
    n, mult, i = 0, 1, 1
    while i < len(buf):
        b = buf[i]
        n += (b & 0x7F) * mult
        mult *= 128
        i += 1
        if not b & 0x80:
            break
    else:
        return None  # the remaining length is not all there yet
    if len(buf) < i + n:
        return None
    return buf[0], buf[i:i + n], buf[i + n:]


class Raw:
    def __init__(self, port, timeout=3):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def recv_packet(self):
        """(type, flags, body) of the next packet, or None when the broker closed."""
        while True:
            got = take_packet(self.buf)
            if got:
                first, body, self.buf = got
                return first >> 4, first & 15, body
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                return None
            if not data:
                return None
            self.buf += data

    def closed(self):
        try:
            while True:
                p = self.recv_packet()
                if p is None:
                    return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


class BrokerRaw(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = Kuiperd(args=["--broker-only"], env={
            "KUIPER__BROKER__MAXPACKETSIZE": "4096",
            "KUIPER__BROKER__CONNECTTIMEOUT": "1",
            "KUIPER__BROKER__MAXOUTBYTES": "65536",
            "KUIPER__BROKER__MAXQUEUEDMESSAGES": "100",
        }).start()
        cls.port = cls.k.mqtt_port

    @classmethod
    def tearDownClass(cls):
        cls.k.cleanup()

    def setUp(self):
        # A well-behaved client that must not notice anything.
        self.good = self.session(b"good-%d" % id(self))
        self.good.send(pkt(0x82, b"\x00\x01" + varint(0) + s(b"ok") + b"\x00"))
        self.assertEqual(self.good.recv_packet()[0], 9)

    def tearDown(self):
        self.good.send(pkt(0x30, s(b"ok") + varint(0) + b"alive"))
        t, _, body = self.good.recv_packet()
        self.assertEqual(t, 3)
        self.assertTrue(body.endswith(b"alive"))
        self.good.close()

    def session(self, cid, v=5, props=b""):
        c = Raw(self.port)
        c.send(connect_pkt(cid, v, props=props))
        t, _, body = c.recv_packet()
        self.assertEqual(t, 2)
        self.assertEqual(body[1], 0)
        return c

    def assertDisconnect(self, c, code):
        p = c.recv_packet()
        self.assertIsNotNone(p, "closed without DISCONNECT")
        self.assertEqual(p[0], 14)
        self.assertEqual(p[2][0], code)
        self.assertTrue(c.closed())
        c.close()

    def test_malformed_v5_packets(self):
        cases = [
            ("publish qos 3", pkt(0x36, s(b"t") + b"\x00\x01" + b"\x00")),
            ("publish bad utf-8 topic", pkt(0x30, s(b"\xc3\x28") + b"\x00")),
            ("publish U+0000 in topic", pkt(0x30, s(b"a\x00b") + b"\x00")),
            ("property not allowed", pkt(0x30, s(b"t") + b"\x05\x11\x00\x00\x00\x01")),
            ("props longer than packet", pkt(0x30, s(b"t") + b"\x09\x01")),
            ("subscribe bad flags", pkt(0x80, b"\x00\x01\x00" + s(b"t") + b"\x00")),
            ("subscribe retain handling 3", pkt(0x82, b"\x00\x01\x00" + s(b"t") + b"\x30")),
            ("pubrel bad flags", pkt(0x60, b"\x00\x01")),
            ("pingreq with payload", pkt(0xC0, b"\x00")),
            ("remaining length too long", b"\x30\xff\xff\xff\xff\x01"),
            ("reserved packet type 0", b"\x00\x00"),
        ]
        for name, data in cases:
            with self.subTest(name):
                c = self.session(name.encode().replace(b" ", b"-"))
                c.send(data)
                self.assertDisconnect(c, 0x81)

    def test_protocol_errors_v5(self):
        cases = [
            ("second connect", connect_pkt(b"x")),
            ("subscribe without filters", pkt(0x82, b"\x00\x01\x00")),
            ("duplicate property", pkt(0x30, s(b"t") + b"\x04\x01\x00\x01\x00")),
            ("unknown topic alias", pkt(0x30, s(b"") + b"\x03\x23\x00\x02")),
        ]
        for name, data in cases:
            with self.subTest(name):
                c = self.session(name.encode().replace(b" ", b"-"))
                c.send(data)
                self.assertDisconnect(c, 0x82)

    def test_topic_alias_too_big(self):
        c = self.session(b"alias")
        c.send(pkt(0x30, s(b"t") + b"\x03\x23\x00\x0b"))
        self.assertDisconnect(c, 0x94)

    def test_packet_too_large(self):
        c = self.session(b"big")
        c.send(pkt(0x30, s(b"t") + b"\x00" + b"x" * 5000))
        self.assertDisconnect(c, 0x95)

    def test_receive_maximum_exceeded(self):
        c = self.session(b"rm")
        for i in range(1, 34):  # 33 unreleased QoS 2 messages, the maximum is 32
            c.send(pkt(0x34, s(b"rm") + struct.pack(">H", i) + b"\x00"))
        for i in range(32):
            self.assertEqual(c.recv_packet()[0], 5)
        self.assertDisconnect(c, 0x93)

    def test_qos_and_retain_limits_reported(self):
        c = self.session(b"sys-pub")
        c.send(pkt(0x32, s(b"$SYS/x") + b"\x00\x07\x00"))
        t, _, body = c.recv_packet()
        self.assertEqual((t, body[:3]), (4, b"\x00\x07\x87"))
        c.close()

    def test_bad_connects(self):
        c = Raw(self.port)
        c.send(pkt(0x10, s(b"MQTT") + b"\x07\x02\x00\x3c" + s(b"x")))
        self.assertEqual(c.recv_packet(), (2, 0, b"\x00\x01"))  # 3.1.1 style: unacceptable version
        self.assertTrue(c.closed())
        c = Raw(self.port)
        c.send(pkt(0x10, s(b"MQTT") + b"\x04\x00\x00\x3c" + s(b"")))  # empty id, persistent session
        self.assertEqual(c.recv_packet(), (2, 0, b"\x00\x02"))
        self.assertTrue(c.closed())
        c = Raw(self.port)
        c.send(pkt(0x10, s(b"MQTT") + b"\x05\x02\x00\x3c" + b"\x06\x15" + s(b"SCRAM")[0:2] + b"SCR" + s(b"x")))
        p = c.recv_packet()
        self.assertTrue(p is None or p[0] == 2)
        c = Raw(self.port)
        c.send(connect_pkt(b"a\x00b", v=4))
        self.assertTrue(c.closed())
        c = Raw(self.port)
        c.send(b"\x30\x02\x00\x00")  # PUBLISH before CONNECT
        self.assertTrue(c.closed())

    def test_silent_connection_reaped(self):
        c = Raw(self.port, timeout=4)
        t0 = time.time()
        self.assertTrue(c.closed())
        self.assertLess(time.time() - t0, 3.5)
        c = Raw(self.port, timeout=4)
        c.send(b"\x10\x10\x00\x04MQ")  # a CONNECT that never completes
        self.assertTrue(c.closed())

    def test_keep_alive(self):
        c = Raw(self.port, timeout=5)
        c.send(connect_pkt(b"ka", keepalive=1))
        self.assertEqual(c.recv_packet()[0], 2)
        t0 = time.time()
        self.assertDisconnect(c, 0x8D)
        self.assertLess(time.time() - t0, 3.5)

    def test_slow_reader_does_not_block_others(self):
        slow = self.session(b"slow")
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.send(pkt(0x82, b"\x00\x01\x00" + s(b"flood") + b"\x01"))
        self.assertEqual(slow.recv_packet()[0], 9)
        pub = self.session(b"flooder")
        payload = b"x" * 2000
        burst = b"".join(pkt(0x30, s(b"flood") + b"\x00" + payload) for _ in range(200))
        for _ in range(10):
            pub.send(burst)  # 4 MB towards a client that reads nothing
        t0 = time.time()
        self.good.send(b"\xc0\x00")
        self.assertEqual(self.good.recv_packet()[0], 13)
        self.assertLess(time.time() - t0, 1.0)
        slow.close()
        pub.close()


if __name__ == "__main__":
    main()
