"""The broker's user database (issue 7): users added with `kuiperd user` and over REST
(/broker/users) are stored as salted PBKDF2-SHA256 hashes in data/broker_auth.db, survive a
restart, and are checked at CONNECT by paho-mqtt (3.1.1 and 5.0) and mosquitto_pub; allowAnonymous
works with them; a `passwordPbkdf2` user of the configuration (hash made here with Python's hashlib)
works; a superuser skips the ACL. Every wait is bounded."""
import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import time
import unittest

from harness import KUIPERD, Kuiperd, main
from test_broker_security import connect, kuiper_yaml

BROKER = """
broker:
  bind: 127.0.0.1
  sysInterval: 0
  allowAnonymous: %s
  passwordIterations: 2000
  aclNoMatch: deny
  acl:
    - {permission: allow, action: all, topic: "open/#"}
  users:
    - {username: carol, passwordPbkdf2: "%s"}
"""


def ab64(b):
    return base64.b64encode(b).decode().rstrip("=").replace("+", ".")


def pbkdf2(password, iterations=3000, salt=b"0123456789abcdef"):
    """A passlib-style hash computed independently of kuiperd."""
    h = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return "$pbkdf2-sha256$%d$%s$%s" % (iterations, ab64(salt), ab64(h))


def mosquitto_pub(port, user, password, version="mqttv311"):
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", "open/x", "-m", "hi", "-V", version,
            "-i", "mp-%s" % user]
    if user:
        args += ["-u", user, "-P", password]
    r = subprocess.run(args, capture_output=True, text=True, timeout=10)
    return r.returncode, r.stderr


def user_cmd(k, *args, stdin=None):
    return subprocess.run([KUIPERD, "--etc", k.etc, "--data", k.data, "user"] + list(args), input=stdin,
                          capture_output=True, text=True, timeout=30)


class UserDb(unittest.TestCase):
    def start(self, anonymous="false"):
        k = Kuiperd(etc_files={"kuiper.yaml": kuiper_yaml(BROKER % (anonymous, pbkdf2("carolpw")))})
        self.addCleanup(k.cleanup)
        return k

    def assert_connects(self, k, user, password, v5_code, v3_code):
        for v5, want in ((True, v5_code), (False, v3_code)):
            c, code = connect(k.mqtt_port, user, password, v5=v5, cid="t-%s-%s" % (user, v5))
            c.loop_stop()
            if code == 0:
                c.disconnect()
            self.assertEqual(code, want, "user %s password %s v5 %s" % (user, password, v5))

    def test_cli_rest_restart(self):
        k = self.start()
        os.makedirs(k.data, exist_ok=True)
        r = user_cmd(k, "add", "alice", "--password", "wonderland")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = user_cmd(k, "add", "dave", stdin="fromstdin\n")  # not a terminal: one line from stdin
        self.assertEqual(r.returncode, 0, r.stderr)
        r = user_cmd(k, "add", "alice", "--password", "again")
        self.assertEqual(r.returncode, 1)
        self.assertIn("already exists", r.stderr)
        # Stored salted and hashed with PBKDF2-SHA256: recompute the hash from the row.
        with sqlite3.connect(os.path.join(k.data, "broker_auth.db")) as db:
            stored = dict(db.execute("SELECT username, hash FROM users").fetchall())
        _, scheme, rounds, salt, digest = stored["alice"].split("$")
        self.assertEqual((scheme, rounds), ("pbkdf2-sha256", "2000"))  # passwordIterations
        raw_salt = base64.b64decode(salt.replace(".", "+") + "==")
        self.assertEqual(ab64(hashlib.pbkdf2_hmac("sha256", b"wonderland", raw_salt, 2000)), digest)
        self.assertNotEqual(stored["alice"].split("$")[3], stored["dave"].split("$")[3])  # random salts

        k.start()
        self.assert_connects(k, "alice", "wonderland", 0, 0)
        self.assert_connects(k, "dave", "fromstdin", 0, 0)
        self.assert_connects(k, "alice", "wrong", 0x86, 4)
        self.assert_connects(k, "nobody", "x", 0x86, 4)
        self.assert_connects(k, None, None, 0x87, 5)  # allowAnonymous: false
        self.assert_connects(k, "carol", "carolpw", 0, 0)  # passwordPbkdf2 in the configuration
        self.assert_connects(k, "carol", "carolpx", 0x86, 4)
        self.assertEqual(mosquitto_pub(k.mqtt_port, "alice", "wonderland")[0], 0)
        rc, err = mosquitto_pub(k.mqtt_port, "alice", "bad")
        self.assertNotEqual(rc, 0)
        self.assertIn("bad user name or password", err.lower())
        rc, err = mosquitto_pub(k.mqtt_port, "alice", "bad", "mqttv5")
        self.assertNotEqual(rc, 0)
        self.assertIn("bad user name or password", err.lower())

        # REST: add, list, change, delete.
        st, body = k.request("POST", "/broker/users", {"username": "erin", "password": "pw1", "is_superuser": True})
        self.assertEqual(st, 201, body)
        self.assertEqual(k.request("POST", "/broker/users", {"username": "erin", "password": "x"})[0], 400)
        self.assertEqual(k.request("POST", "/broker/users", {"username": "frank"})[0], 400)
        self.assertEqual(k.request("POST", "/broker/users", {"username": "carol", "password": "x"})[0], 400)
        self.assert_connects(k, "erin", "pw1", 0, 0)
        st, body = k.request("GET", "/broker/users")
        self.assertEqual(st, 200)
        users = {u["username"]: u for u in body["data"]}
        self.assertEqual(sorted(users), ["alice", "carol", "dave", "erin"])
        self.assertEqual(body["meta"]["count"], 4)
        self.assertTrue(users["erin"]["is_superuser"])
        self.assertEqual(users["carol"]["source"], "config")
        self.assertNotIn("hash", json.dumps(body))
        st, _ = k.request("PUT", "/broker/users/erin", {"password": "pw2"})
        self.assertEqual(st, 200)
        self.assert_connects(k, "erin", "pw1", 0x86, 4)
        self.assert_connects(k, "erin", "pw2", 0, 0)
        self.assertEqual(k.request("PUT", "/broker/users/nobody", {"password": "pw2"})[0], 404)
        self.assertEqual(k.request("DELETE", "/broker/users/dave")[0], 200)
        self.assertEqual(k.request("DELETE", "/broker/users/dave")[0], 404)
        self.assertEqual(k.request("DELETE", "/broker/users/carol")[0], 400)
        self.assert_connects(k, "dave", "fromstdin", 0x86, 4)

        # Users survive a restart; the CLI sees what REST wrote.
        k.restart()
        self.assert_connects(k, "alice", "wonderland", 0, 0)
        self.assert_connects(k, "erin", "pw2", 0, 0)
        r = user_cmd(k, "list")
        self.assertEqual(r.stdout.split("\n")[:2], ["alice", "erin (superuser)"])
        self.assertEqual(user_cmd(k, "del", "alice").returncode, 0)
        self.assert_connects(k, "alice", "wonderland", 0x86, 4)  # seen by the running broker

    def test_anonymous_and_superuser(self):
        k = self.start("true").start()
        st, _ = k.request("POST", "/broker/users", {"username": "root", "password": "r", "is_superuser": True})
        self.assertEqual(st, 201)
        self.assertEqual(k.request("POST", "/broker/users", {"username": "joe", "password": "j"})[0], 201)
        self.assert_connects(k, None, None, 0, 0)  # allowAnonymous: true with database users
        self.assert_connects(k, "joe", "nope", 0x86, 4)  # a wrong password is still refused
        # aclNoMatch: deny -- joe may only use open/#, the superuser anything.
        for user, pw, want in (("joe", "j", 0x87), ("root", "r", 1)):
            c, code = connect(k.mqtt_port, user, pw, v5=True, cid="acl-" + user)
            self.assertEqual(code, 0)
            got = []
            c.on_subscribe = lambda cl, u, mid, rcs, p=None: got.append([r.value for r in rcs])
            c.subscribe("secret/#", 1)
            c.subscribe("open/#", 1)
            deadline = time.time() + 5
            while len(got) < 2 and time.time() < deadline:
                time.sleep(0.02)
            self.assertEqual(got, [[want], [1]], user)
            c.disconnect()
            c.loop_stop()

    def test_bad_config(self):
        k = Kuiperd(etc_files={"kuiper.yaml": kuiper_yaml(BROKER % ("false", "$pbkdf2-sha256$x$y$z"))})
        self.addCleanup(k.cleanup)
        with self.assertRaises(RuntimeError) as ctx:
            k.start(timeout=10)
        self.assertIn("broker.users[0].passwordPbkdf2", str(ctx.exception))


if __name__ == "__main__":
    main()
