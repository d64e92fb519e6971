"""kuiperd as a user first meets it: it starts with the shipped etc/, answers GET / and /ping,
gives eKuiper's error body for unknown paths, honours environment overrides, refuses a busy port
or a bad configuration with a message that names the problem, and stops cleanly on SIGTERM."""
import os
import signal
import socket
import subprocess
import unittest

from harness import KUIPERD, Kuiperd, free_port, main


class Basics(unittest.TestCase):
    def test_info_ping_and_not_found(self):
        with Kuiperd() as k:
            status, body = k.request("GET", "/ping")
            self.assertEqual(status, 200)
            status, body = k.request("GET", "/")
            self.assertEqual(status, 200)
            for key in ("version", "os", "arch", "upTimeSeconds"):
                self.assertIn(key, body)
            self.assertEqual(body["os"], "linux")
            status, body = k.request("GET", "/no/such/path")
            self.assertEqual(status, 404)
            self.assertEqual(body["error"], 1002)
            self.assertIn("/no/such/path", body["message"])

    def test_sigterm_stops_cleanly_and_logs(self):
        k = Kuiperd().start()
        try:
            self.assertEqual(k.stop(signal.SIGTERM), 0)
            with open(os.path.join(k.log, "stream.log")) as f:
                log = f.read()
            self.assertIn('level=info msg="kuiperd', log)
            self.assertIn("kuiperd stopped", log)
            self.assertTrue(os.path.exists(os.path.join(k.data, "sqliteKV.db")))
        finally:
            k.cleanup()

    def test_rest_port_in_use_is_named(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        k = Kuiperd(env={"KUIPER__BASIC__RESTPORT": str(port)})
        try:
            k.start(wait=False)
            rc = k.proc.wait(15)
            self.assertEqual(rc, 1)
            self.assertIn("REST port %d" % port, k.output())
            self.assertIn("already in use", k.output())
        finally:
            busy.close()
            k.cleanup()

    def test_bad_config_exits_with_file_line_and_key(self):
        k = Kuiperd(etc_files={"kuiper.yaml": "basic:\n  logLevel: info\n  restPort: nine\n"},
                    env={"KUIPER__BASIC__RESTPORT": None})
        try:
            k.start(wait=False)
            self.assertEqual(k.proc.wait(15), 1)
            out = k.output()
            self.assertIn("kuiper.yaml:3", out)
            self.assertIn("basic.restPort", out)
        finally:
            k.cleanup()

    def test_bad_env_override_is_named(self):
        k = Kuiperd(env={"KUIPER__BASIC__FILELOG": "perhaps"})
        try:
            k.start(wait=False)
            self.assertEqual(k.proc.wait(15), 1)
            self.assertIn("KUIPER__BASIC__FILELOG", k.output())
        finally:
            k.cleanup()

    def test_second_instance_on_same_data_dir_is_refused(self):
        with Kuiperd() as a:
            b = Kuiperd(workdir=a.dir)
            b.start(wait=False)
            self.assertEqual(b.proc.wait(15), 1)
            self.assertIn("in use by another process", b.output())

    def test_version_and_help(self):
        out = subprocess.run([KUIPERD, "--version"], capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0)
        self.assertIn("kuiperd version", out.stdout)
        out = subprocess.run([KUIPERD, "--help"], capture_output=True, text=True, timeout=10)
        self.assertIn("--etc DIR", out.stdout)
        out = subprocess.run([KUIPERD, "--bogus"], capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 2)
        self.assertIn("--bogus", out.stderr)


if __name__ == "__main__":
    main()
