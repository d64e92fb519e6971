"""MQTT 5 enhanced authentication (issue 6) over raw sockets against `kuiperd --broker-only`:
the built-in KUIPER-HMAC-SHA256 method of `enhancedAuth: true` (CONNECT -> AUTH 0x18 with a nonce ->
AUTH 0x18 with HMAC-SHA256(password, nonce) -> CONNACK 0), a wrong answer or unknown user refused
with CONNACK 0x87 and the connection closed, re-authentication (AUTH 0x19 ... AUTH 0x00, or
DISCONNECT 0x87), other methods refused with 0x8C, and an AUTH out of turn a protocol error (0x82).
Without enhancedAuth every method still gets 0x8C. Every wait is bounded."""
import hashlib
import hmac
import os
import struct
import unittest

from harness import Kuiperd, main
from test_broker_raw import Raw, connect_pkt, pkt, s, varint
from test_broker_security import kuiper_yaml as base_yaml

METHOD = b"KUIPER-HMAC-SHA256"
YAML = """
broker:
  bind: 127.0.0.1
  sysInterval: 0
  persist: false
  enhancedAuth: %s
  users:
    - {username: alice, password: secret}
"""
CONNECT, CONNACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = 1, 2, 12, 13, 14, 15

# Property id -> size (0 = two-byte length prefixed, -1 = variable byte integer).
PROP_SIZES = {0x01: 1, 0x02: 4, 0x03: 0, 0x08: 0, 0x09: 0, 0x0B: -1, 0x11: 4, 0x12: 0, 0x13: 2, 0x15: 0,
              0x16: 0, 0x17: 1, 0x19: 1, 0x1A: 0, 0x1C: 0, 0x1F: 0, 0x21: 2, 0x22: 2, 0x23: 2, 0x24: 1,
              0x25: 1, 0x27: 4, 0x28: 1, 0x29: 1, 0x2A: 1}


def read_varint(b, i):
    n, mult = 0, 1
    while True:
        n += (b[i] & 0x7F) * mult
        mult *= 128
        i += 1
        if not b[i - 1] & 0x80:
            return n, i


def props(b, i):
    """The properties at b[i:] as {id: bytes or int}."""
    n, i = read_varint(b, i)
    out, end = {}, i + n
    while i < end:
        pid, size = b[i], PROP_SIZES[b[i]]
        i += 1
        if pid == 0x26:
            k, = struct.unpack(">H", b[i:i + 2])
            i += 2 + k
            k, = struct.unpack(">H", b[i:i + 2])
            i += 2 + k
        elif size == 0:
            k, = struct.unpack(">H", b[i:i + 2])
            out[pid] = b[i + 2:i + 2 + k]
            i += 2 + k
        elif size == -1:
            out[pid], i = read_varint(b, i)
        else:
            out[pid] = int.from_bytes(b[i:i + size], "big")
            i += size
    return out


def auth_props(data=None, method=METHOD):
    p = b"\x15" + s(method)
    if data is not None:
        p += b"\x16" + s(data)
    return p


def connect_user(cid, user, method=METHOD, data=None):
    """A v5 CONNECT with a user name (no password) and an Authentication Method."""
    pr = auth_props(data, method)
    body = s(b"MQTT") + bytes([5, 0x82]) + struct.pack(">H", 60) + varint(len(pr)) + pr + s(cid) + s(user)
    return pkt(0x10, body)


def auth_pkt(reason, data=None, method=METHOD):
    pr = auth_props(data, method)
    return pkt(0xF0, bytes([reason]) + varint(len(pr)) + pr)


def expect_auth(test, c):
    """Reads an AUTH; returns (reason, properties)."""
    p = c.recv_packet()
    test.assertIsNotNone(p, "closed instead of AUTH")
    test.assertEqual(p[0], AUTH, p)
    return p[2][0], props(p[2], 1)


def answer(nonce, password=b"secret"):
    return hmac.new(password, nonce, hashlib.sha256).digest()


class EnhancedAuth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = Kuiperd(args=["--broker-only"], etc_files={"kuiper.yaml": base_yaml().split("\nbroker:")[0] + YAML % "true"})
        cls.k.start()
        cls.port = cls.k.mqtt_port

    @classmethod
    def tearDownClass(cls):
        cls.k.cleanup()

    def raw(self):
        c = Raw(self.port)
        self.addCleanup(c.sock.close)
        return c

    def challenge(self, c, cid=b"ea", user=b"alice"):
        c.send(connect_user(cid, user))
        reason, pr = expect_auth(self, c)
        self.assertEqual(reason, 0x18)
        self.assertEqual(pr[0x15], METHOD)
        self.assertEqual(len(pr[0x16]), 32)
        return pr[0x16]

    def test_exchange_and_reauth(self):
        c = self.raw()
        nonce = self.challenge(c)
        c.send(auth_pkt(0x18, answer(nonce)))
        t, _, body = c.recv_packet()
        self.assertEqual((t, body[1]), (CONNACK, 0))
        self.assertEqual(props(body, 2)[0x15], METHOD)
        c.send(pkt(0xC0, b""))
        self.assertEqual(c.recv_packet()[0], PINGRESP)
        # Re-authentication: AUTH 0x19 -> AUTH 0x18 (new nonce) -> AUTH 0x18 -> AUTH 0x00.
        c.send(auth_pkt(0x19))
        reason, pr = expect_auth(self, c)
        self.assertEqual(reason, 0x18)
        self.assertNotEqual(pr[0x16], nonce)
        c.send(auth_pkt(0x18, answer(pr[0x16])))
        reason, pr = expect_auth(self, c)
        self.assertEqual(reason, 0)
        c.send(pkt(0xC0, b""))
        self.assertEqual(c.recv_packet()[0], PINGRESP)
        # A failed re-authentication ends the connection with DISCONNECT 0x87.
        c.send(auth_pkt(0x19))
        reason, pr = expect_auth(self, c)
        c.send(auth_pkt(0x18, answer(pr[0x16], b"wrong")))
        t, _, body = c.recv_packet()
        self.assertEqual((t, body[0]), (DISCONNECT, 0x87))
        self.assertTrue(c.closed())

    def test_wrong_answer(self):
        c = self.raw()
        nonce = self.challenge(c, b"eb")
        c.send(auth_pkt(0x18, answer(nonce, b"not-the-password")))
        t, _, body = c.recv_packet()
        self.assertEqual((t, body[1]), (CONNACK, 0x87))
        self.assertTrue(c.closed())

    def test_unknown_user_gets_a_nonce_then_refused(self):
        c = self.raw()
        nonce = self.challenge(c, b"ec", b"mallory")
        c.send(auth_pkt(0x18, answer(nonce)))
        t, _, body = c.recv_packet()
        self.assertEqual((t, body[1]), (CONNACK, 0x87))
        self.assertTrue(c.closed())

    def test_other_method(self):
        c = self.raw()
        c.send(connect_user(b"ed", b"alice", method=b"SCRAM-SHA-256", data=b"x"))
        t, _, body = c.recv_packet()
        self.assertEqual((t, body[1]), (CONNACK, 0x8C))
        self.assertTrue(c.closed())

    def test_auth_out_of_turn(self):
        # The exchange must keep its method.
        c = self.raw()
        self.challenge(c, b"ee")
        c.send(auth_pkt(0x18, b"x" * 32, method=b"OTHER"))
        t, _, body = c.recv_packet()
        self.assertEqual((t, body[1]), (CONNACK, 0x82))
        self.assertTrue(c.closed())
        # A client connected without a method may not send AUTH.
        c = self.raw()
        c.send(connect_pkt(b"ef"))
        self.assertEqual(c.recv_packet()[0], CONNACK)
        c.send(auth_pkt(0x19))
        t, _, body = c.recv_packet()
        self.assertEqual((t, body[0]), (DISCONNECT, 0x82))
        self.assertTrue(c.closed())


class WithoutMethod(unittest.TestCase):
    def test_bad_authentication_method(self):
        with Kuiperd(args=["--broker-only"],
                     etc_files={"kuiper.yaml": base_yaml().split("\nbroker:")[0] + YAML % "false"}) as k:
            c = Raw(k.mqtt_port)
            self.addCleanup(c.sock.close)
            c.send(connect_user(b"eg", b"alice"))
            t, _, body = c.recv_packet()
            self.assertEqual((t, body[1]), (CONNACK, 0x8C))
            self.assertTrue(c.closed())


if __name__ == "__main__":
    main()
