"""`kuiper query` in a real terminal (a pty): the `kuiper > ` prompt, each SELECT submitted as a
temporary rule whose rest sink posts to the shell, results printed as they arrive, Ctrl-C ending
the query (the rule is deleted) and returning to the prompt, server errors shown, `exit`/`quit`
leaving, and the history kept in $HOME/.kuiper_history. The server is a fake eKuiper REST API,
so these tests do not depend on kuiperd's rule engine; test_cli_server.py runs the same shell
against kuiperd once it serves rules."""
import http.client
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from cli_util import KUIPER, FakeRest
from harness import main


class Pty:
    """kuiper running on a pseudo-terminal, read with timeouts."""

    def __init__(self, args, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(KUIPER, [KUIPER] + args, env)
        self.buf = b""

    def expect(self, pattern, timeout=10):
        """Waits for a regex in the output since the last match; returns the text before it."""
        deadline = time.time() + timeout
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        while True:
            m = rx.search(self.buf)
            if m:
                before = self.buf[:m.start()]
                self.buf = self.buf[m.end():]
                return before.decode(errors="replace")
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("timed out waiting for %r; output so far: %r" % (pattern, self.buf))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError("kuiper exited while waiting for %r; output: %r" % (pattern, self.buf))
                self.buf += data

    def send(self, text):
        os.write(self.fd, text.encode())

    def wait(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            try:  # keep draining so the child never blocks on a full pty
                if select.select([self.fd], [], [], 0.05)[0]:
                    self.buf += os.read(self.fd, 4096)
            except OSError:
                time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError("kuiper did not exit; output: %r" % self.buf)


def post_results(url, *bodies, chunked=False):
    """Posts result batches to the shell's receiver over one kept-alive connection, as a sink does."""
    u = urllib.parse.urlparse(url)
    if chunked:
        with socket.create_connection((u.hostname, u.port), timeout=5) as s:
            for body in bodies:
                data = body.encode()
                half = len(data) // 2
                s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n" +
                          b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, data[:half], len(data) - half, data[half:]))
                assert s.recv(1024).startswith(b"HTTP/1.1 200")
        return
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    for body in bodies:
        conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        assert r.status == 200
    conn.close()


class QueryShell(unittest.TestCase):
    def setUp(self):
        self.fake = FakeRest().__enter__()
        self.home = tempfile.mkdtemp(prefix="ek-cli-home-")
        self.env = {k: v for k, v in os.environ.items() if k not in ("KUIPER_HOST", "KUIPER_PORT")}
        self.env.update({"HOME": self.home, "TERM": "xterm"})

    def tearDown(self):
        self.fake.__exit__(None, None, None)
        shutil.rmtree(self.home, ignore_errors=True)

    def start(self):
        p = Pty(["--host", "127.0.0.1", "--port", str(self.fake.port), "query"], self.env)
        self.rule_id = "internal-ekuiper_query_rule_%d" % p.pid
        self.fake.route("POST", "/rules", 201, "Rule %s was created successfully." % self.rule_id)
        self.fake.route("GET", "/rules/%s/status" % self.rule_id, 200, {"status": "running", "message": ""})
        self.fake.route("DELETE", "/rules/%s" % self.rule_id, 200, "Rule %s is dropped." % self.rule_id)
        p.expect("kuiper > ")
        return p

    def test_query_prints_results_until_ctrl_c(self):
        p = self.start()
        p.send("SELECT * FROM demo WHERE id > 10;\r")
        p.expect("Query was submit successfully.")
        # A leftover rule of the same id is deleted first, as eKuiper replaces a previous query.
        calls = [(m, path) for m, path, _ in self.fake.requests if path.startswith("/rules")]
        self.assertEqual(calls[:2], [("DELETE", "/rules/" + self.rule_id), ("POST", "/rules")])
        rule = json.loads(self.fake.last("POST", "/rules")[2])
        self.fake.clear()
        self.assertEqual(rule["id"], self.rule_id)
        self.assertEqual(rule["sql"], "SELECT * FROM demo WHERE id > 10")
        self.assertTrue(rule["temp"])
        url = rule["actions"][0]["rest"]["url"]
        self.assertTrue(url.startswith("http://127.0.0.1:"), url)
        post_results(url, '[{"id":11,"name":"a"}]', '[{"id":12,"name":"b"}]')
        p.expect(re.escape('[{"id":11,"name":"a"}]') + r"\r?\n")
        p.expect(re.escape('[{"id":12,"name":"b"}]') + r"\r?\n")
        post_results(url, '[{"id":13}]', chunked=True)
        p.expect(re.escape('[{"id":13}]'))
        self.assertIsNone(self.fake.last("DELETE"))
        p.send("\x03")
        p.expect("kuiper > ")
        self.assertEqual(self.fake.last("DELETE")[1], "/rules/" + self.rule_id)
        p.send("exit\r")
        self.assertEqual(p.wait(), 0)
        with open(os.path.join(self.home, ".kuiper_history")) as f:
            # libedit writes its history with vis(3) escapes: a space is \040.
            text = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), f.read())
        self.assertIn("SELECT * FROM demo WHERE id > 10", text)

    def test_server_error_and_stopped_rule(self):
        p = self.start()
        self.fake.route("POST", "/rules", 400, {"error": 2001, "message": "line 1, column 8: unknown field \"x\""})
        p.send("SELECT x FROM demo\r")
        p.expect(re.escape('line 1, column 8: unknown field "x"'))
        p.expect("kuiper > ")
        self.fake.route("POST", "/rules", 201, "ok")
        self.fake.route("GET", "/rules/%s/status" % self.rule_id, 200,
                        {"status": "stopped by error", "message": "stream demo is not found"})
        p.send("SELECT * FROM demo\r")
        p.expect("Query was submit successfully.")
        p.expect("query rule is stopped: stream demo is not found", timeout=15)
        p.expect("kuiper > ")
        p.send("QUIT\r")
        self.assertEqual(p.wait(), 0)

    def test_ctrl_c_at_prompt_and_end_of_input(self):
        p = self.start()
        p.send("SELEC")
        p.send("\x03")
        p.expect("kuiper > ")
        self.assertIsNone(self.fake.last("POST", "/rules"))
        p.send("\x04")
        self.assertEqual(p.wait(), 0)

    def test_piped_input_drives_the_shell(self):
        proc = subprocess.Popen([KUIPER, "--port", str(self.fake.port), "query"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=self.env)
        rule_id = "internal-ekuiper_query_rule_%d" % proc.pid
        self.fake.route("POST", "/rules", 201, "ok")
        self.fake.route("GET", "/rules/%s/status" % rule_id, 200, {"status": "running"})
        self.fake.route("DELETE", "/rules/%s" % rule_id, 200, "dropped")
        try:
            proc.stdin.write("SELECT * FROM demo\n")
            proc.stdin.flush()
            self.assertEqual(proc.stdout.readline(), "kuiper > Query was submit successfully.\n")
            url = json.loads(self.fake.last("POST", "/rules")[2])["actions"][0]["rest"]["url"]
            post_results(url, '[{"a":1}]')
            self.assertEqual(proc.stdout.readline(), '[{"a":1}]\n')
            self.fake.clear()
            proc.stdin.write("exit\n")  # the next line ends the running query
            proc.stdin.flush()
            self.assertEqual(proc.wait(10), 0)
            self.assertEqual(proc.stdout.read(), "kuiper > ")
            self.assertEqual(self.fake.last("DELETE")[1], "/rules/" + rule_id)
        finally:
            proc.kill()
            proc.wait()

    def test_piped_input(self):
        r = subprocess.run([KUIPER, "--port", str(self.fake.port), "query"], input="\n  \nexit\n",
                           capture_output=True, text=True, env=self.env, timeout=20)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "kuiper > kuiper > kuiper > ")


if __name__ == "__main__":
    main()
