"""JWT authentication of MQTT clients (issue 7), EMQX style: tokens made here (HMAC with hmac +
base64; RS256 and ES256 signed with the openssl command) are sent in the password (or the user name)
by paho-mqtt over MQTT 3.1.1 and 5.0; a good token connects, an expired, not-yet-valid, badly
signed, alg "none" or wrong-key token gets CONNACK 0x86 (3.1.1: 4). Every wait is bounded."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import tempfile
import time
import unittest

from harness import Kuiperd, main
from test_broker_security import connect, kuiper_yaml

SECRET = "emqxsecret"
BROKER = """
broker:
  bind: 127.0.0.1
  sysInterval: 0
  allowAnonymous: false
  users:
    - {username: plain, password: pw}
  jwt:
    enable: true
    from: %s
    secret: %s
    publicKey: %s
"""


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unsigned(alg, claims):
    return b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." + b64url(json.dumps(claims).encode())


def hs(claims, secret=SECRET, alg="HS256"):
    h = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    msg = unsigned(alg, claims)
    return msg + "." + b64url(hmac.new(secret.encode(), msg.encode(), h).digest())


def der_to_raw(der, size=32):
    """An ECDSA DER signature (SEQUENCE of two INTEGERs) as JWS's r||s."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 3
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        out += der[i + 2:i + 2 + n].lstrip(b"\0").rjust(size, b"\0")
        i += 2 + n
    return out


def openssl_sign(alg, claims, key):
    msg = unsigned(alg, claims)
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=msg.encode(), capture_output=True,
                         check=True, timeout=10).stdout
    if alg == "ES256":
        sig = der_to_raw(sig)
    return msg + "." + b64url(sig)


def keypair(d, name, genargs):
    key, pub = os.path.join(d, name + ".key"), os.path.join(d, name + ".pub")
    subprocess.run(["openssl"] + genargs + ["-out", key], check=True, capture_output=True, timeout=30)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True, capture_output=True,
                   timeout=10)
    return key, pub


class Jwt(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ek-jwt-")
        cls.rsa, cls.rsa_pub = keypair(cls.dir, "rsa", ["genpkey", "-algorithm", "RSA", "-pkeyopt",
                                                          "rsa_keygen_bits:2048"])
        cls.ec, cls.ec_pub = keypair(cls.dir, "ec", ["genpkey", "-algorithm", "EC", "-pkeyopt",
                                                       "ec_paramgen_curve:P-256"])

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["rm", "-rf", cls.dir], timeout=10)

    def start(self, source, pub):
        k = Kuiperd(args=["--broker-only"], etc_files={"kuiper.yaml": kuiper_yaml(BROKER % (source, SECRET, pub))})
        self.addCleanup(k.cleanup)
        return k.start()

    def check(self, k, token, want_ok, user="dev1", from_username=False):
        for v5 in (False, True):
            bad = 0x86 if v5 else 4
            u, p = (token, None) if from_username else (user, token)
            c, code = connect(k.mqtt_port, u, p, v5=v5, cid="j%d%s" % (int(time.time() * 1000) % 100000, v5))
            c.loop_stop()
            if code == 0:
                c.disconnect()
            self.assertEqual(code, 0 if want_ok else bad, "v5 %s token %s" % (v5, token[:60]))

    def test_password_tokens(self):
        k = self.start("password", self.rsa_pub)
        now = int(time.time())
        self.check(k, hs({"sub": "dev1", "exp": now + 600}), True)
        self.check(k, hs({"sub": "dev1"}), True)  # no exp: no expiry
        self.check(k, hs({"exp": now + 600}, alg="HS512"), True)
        self.check(k, hs({"exp": now - 10}), False)  # expired
        self.check(k, hs({"exp": now + 600, "nbf": now + 300}), False)  # not valid yet
        self.check(k, hs({"exp": "tomorrow"}), False)
        self.check(k, hs({"exp": now + 600}, secret="other"), False)  # bad signature
        good = hs({"exp": now + 600})
        self.check(k, good[:-3] + ("AAA" if good[-3:] != "AAA" else "BBB"), False)
        self.check(k, unsigned("none", {"exp": now + 600}) + ".", False)  # alg none
        self.check(k, openssl_sign("RS256", {"exp": now + 600}, self.rsa), True)
        self.check(k, openssl_sign("RS256", {"exp": now - 1}, self.rsa), False)
        # An RS256 header over an HMAC made with the public key text: the confusion attack.
        pem = open(self.rsa_pub).read()
        self.check(k, hs({"exp": now + 600}, secret=pem).replace(
            b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()),
            b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()), 1), False)
        # A token for another key type than the one configured (ES256 with an RSA key).
        self.check(k, openssl_sign("ES256", {"exp": now + 600}, self.ec), False)
        # Not a JWT: the other checks decide (the configured user, then refusal).
        self.check(k, "pw", True, user="plain")
        self.check(k, "pw", False, user="dev1")

    def test_es256_from_username(self):
        k = self.start("username", self.ec_pub)
        now = int(time.time())
        self.check(k, openssl_sign("ES256", {"exp": now + 600}, self.ec), True, from_username=True)
        self.check(k, openssl_sign("ES256", {"exp": now - 5}, self.ec), False, from_username=True)
        self.check(k, hs({"exp": now + 600}), True, from_username=True)
        c, code = connect(k.mqtt_port, None, None, v5=True, cid="anon")
        c.loop_stop()
        self.assertEqual(code, 0x87)  # no token, allowAnonymous false

    def test_bad_key_file(self):
        k = Kuiperd(args=["--broker-only"],
                    etc_files={"kuiper.yaml": kuiper_yaml(BROKER % ("password", SECRET, "/nonexistent.pem"))})
        self.addCleanup(k.cleanup)
        with self.assertRaises(RuntimeError) as ctx:
            k.start(timeout=10)
        self.assertIn("broker.jwt.publicKey", str(ctx.exception))


if __name__ == "__main__":
    main()
