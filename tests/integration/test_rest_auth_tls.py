"""REST security as an eKuiper user configures it: with basic.authentication every call needs an
RS256 JWT whose iss names a public key in etc/mgmt and whose aud is "eKuiper" (401 otherwise, GET
/ping stays open for health checks); with basic.restTls the API is served over HTTPS only.
Keys, certificates and signatures are made with the openssl command-line tool."""
import base64
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from harness import Kuiperd, main


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(private_key, claims, alg="RS256"):
    header = b64url(json.dumps({"typ": "JWT", "alg": alg}).encode())
    payload = b64url(json.dumps(claims).encode())
    signing_input = ("%s.%s" % (header, payload)).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", private_key], input=signing_input,
                         capture_output=True, check=True).stdout
    return "%s.%s.%s" % (header, payload, b64url(sig))


def admin_pem_and_token(tmp):
    """Makes an RSA key pair in tmp; returns the public key (PEM text, for etc/mgmt/admin.pub) and
    a valid token for it (iss admin.pub, aud eKuiper, ten minutes)."""
    key, pub = os.path.join(tmp, "admin.key"), os.path.join(tmp, "admin.pub")
    subprocess.run(["openssl", "genrsa", "-out", key, "2048"], capture_output=True, check=True)
    subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-out", pub], capture_output=True, check=True)
    with open(pub) as f:
        pem = f.read()
    return pem, make_jwt(key, {"iss": "admin.pub", "aud": "eKuiper", "exp": int(time.time()) + 600})


class Auth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ek-auth-")
        cls.key = os.path.join(cls.tmp, "admin.key")
        cls.pub = os.path.join(cls.tmp, "admin.pub")
        cls.other = os.path.join(cls.tmp, "other.key")
        for key in (cls.key, cls.other):
            subprocess.run(["openssl", "genrsa", "-out", key, "2048"], capture_output=True, check=True)
        subprocess.run(["openssl", "rsa", "-in", cls.key, "-pubout", "-out", cls.pub],
                       capture_output=True, check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_jwt_required_when_enabled(self):
        with open(self.pub) as f:
            pub = f.read()
        k = Kuiperd(env={"KUIPER__BASIC__AUTHENTICATION": "true"}, etc_files={"mgmt/admin.pub": pub})
        with k:
            status, _ = k.request("GET", "/ping")
            self.assertEqual(status, 200, "health checks need no token")
            status, body = k.request("GET", "/")
            self.assertEqual(status, 401)
            self.assertIn("Authorization", body["message"])
            good = make_jwt(self.key, {"iss": "admin.pub", "aud": "eKuiper", "exp": int(time.time()) + 300})
            status, body = k.request("GET", "/", headers={"Authorization": good})
            self.assertEqual(status, 200)
            self.assertIn("version", body)
            status, _ = k.request("GET", "/", headers={"Authorization": "Bearer " + good})
            self.assertEqual(status, 200)
            cases = {
                "expired": make_jwt(self.key, {"iss": "admin.pub", "aud": "eKuiper", "exp": int(time.time()) - 10}),
                "wrong aud": make_jwt(self.key, {"iss": "admin.pub", "aud": "someone"}),
                "unknown key file": make_jwt(self.key, {"iss": "nobody.pub", "aud": "eKuiper"}),
                "path in iss": make_jwt(self.key, {"iss": "../kuiper.yaml", "aud": "eKuiper"}),
                "signed by another key": make_jwt(self.other, {"iss": "admin.pub", "aud": "eKuiper"}),
                "not a jwt": "hello",
            }
            for name, token in cases.items():
                status, body = k.request("GET", "/", headers={"Authorization": token})
                self.assertEqual(status, 401, name)
                self.assertEqual(body["error"], 1000, name)

    def test_no_auth_by_default(self):
        with Kuiperd() as k:
            status, _ = k.request("GET", "/")
            self.assertEqual(status, 200)

    def test_https_with_rest_tls(self):
        cert = os.path.join(self.tmp, "server.crt")
        key = os.path.join(self.tmp, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       capture_output=True, check=True)
        k = Kuiperd(env={"KUIPER__BASIC__RESTTLS__CERTFILE": cert, "KUIPER__BASIC__RESTTLS__KEYFILE": key})
        try:
            k.start(wait=False)
            ctx = ssl.create_default_context(cafile=cert)
            url = "https://127.0.0.1:%d/" % k.rest_port
            deadline = time.time() + 15
            while True:
                try:
                    with urllib.request.urlopen(url, context=ctx, timeout=2) as r:
                        body = json.loads(r.read())
                    break
                except (urllib.error.URLError, ConnectionError):
                    if time.time() > deadline or k.proc.poll() is not None:
                        raise AssertionError("no HTTPS answer:\n" + k.output())
                    time.sleep(0.1)
            self.assertIn("version", body)
            with self.assertRaises(Exception):  # plain HTTP is not served on the TLS port
                k.request("GET", "/", timeout=2)
        finally:
            k.cleanup()

    def test_rest_tls_missing_file_is_named(self):
        k = Kuiperd(env={"KUIPER__BASIC__RESTTLS__CERTFILE": "/nonexistent/cert.pem",
                         "KUIPER__BASIC__RESTTLS__KEYFILE": "/nonexistent/key.pem"})
        try:
            k.start(wait=False)
            self.assertEqual(k.proc.wait(15), 1)
            self.assertIn("basic.restTls.certfile", k.output())
            self.assertIn("/nonexistent/cert.pem", k.output())
        finally:
            k.cleanup()


if __name__ == "__main__":
    main()
