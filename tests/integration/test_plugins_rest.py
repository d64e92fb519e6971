"""Plugin management over REST through a real kuiperd, with eKuiper's paths, bodies and texts:
install from a file:// URL (limited to data/uploads unless basic.allowExternalFileAccess; a .so
or a zip holding <name>.so), describe, list, /plugins/udfs, register a function list, refusal of
a broken plugin with the reason, the installed plugin surviving a restart, and delete (the
function is gone at once). The CLI's plugin commands run against the same endpoints."""
import os
import shutil
import unittest
import zipfile

from cli_util import kuiper
from harness import SOURCE_DIR, Kuiperd, main

BUILD = os.environ.get("EK_BINARY_DIR") or os.path.join(SOURCE_DIR, "build")
SAMPLES = os.path.join(BUILD, "plugins")
BROKEN = os.path.join(BUILD, "plugins-test")

MEMSTREAM = 'CREATE STREAM m (a BIGINT) WITH (TYPE="memory", DATASOURCE="in/m")'


def upload(k, src, name=None):
    """Copies src into k's data/uploads; returns its file:// URL."""
    dst = os.path.join(k.data, "uploads", name or os.path.basename(src))
    shutil.copy(src, dst)
    return "file://" + dst


def echo_rule(rid):
    return {"id": rid, "sql": "SELECT echo(a) AS e FROM m", "triggered": False,
            "actions": [{"memory": {"topic": "out/" + rid}}]}


class Rest(unittest.TestCase):
    def test_install_describe_register_restart_delete(self):
        with Kuiperd() as k:
            self.assertEqual(k.request("GET", "/plugins/functions"), (200, []))
            self.assertEqual(k.request("GET", "/plugins/udfs"), (200, []))
            self.assertEqual(k.request("POST", "/streams", {"sql": MEMSTREAM})[0], 201)
            self.assertEqual(k.request("POST", "/rules", echo_rule("before"))[0], 400)

            # Outside data/uploads is refused unless allowExternalFileAccess.
            outside = "file://" + os.path.join(SAMPLES, "functions", "echo.so")
            status, body = k.request("POST", "/plugins/functions", {"name": "echo", "file": outside})
            self.assertEqual(status, 400, body)
            self.assertIn("allowExternalFileAccess", body["message"])

            url = upload(k, os.path.join(SAMPLES, "functions", "echo.so"))
            self.assertEqual(k.request("POST", "/plugins/functions", {"name": "echo", "file": url}),
                             (201, "function plugin echo is created"))
            status, body = k.request("POST", "/plugins/functions", {"name": "echo", "file": url})
            self.assertEqual(status, 400, body)
            status, body = k.request("GET", "/plugins/functions/echo")
            self.assertEqual((status, body["name"], body["version"], body["functions"]), (200, "echo", "1.0.0", ["echo"]))
            self.assertEqual(k.request("GET", "/plugins/udfs"), (200, ["echo"]))
            self.assertEqual(k.request("GET", "/plugins/udfs/echo"), (200, {"name": "echo", "plugin": "echo"}))
            self.assertEqual(k.request("GET", "/plugins/udfs/nope")[0], 404)
            self.assertEqual(k.request("POST", "/rules", echo_rule("r1"))[0], 201)

            self.assertEqual(k.request("POST", "/plugins/functions/echo/register", {"functions": ["echo"]}),
                             (200, "function plugin echo function list is registered"))
            status, body = k.request("POST", "/plugins/functions/echo/register", {"functions": ["nope"]})
            self.assertEqual(status, 400, body)
            self.assertEqual(k.request("POST", "/plugins/functions/zzz/register", {"functions": ["a"]})[0], 404)

            # A sink and a source, the source from a zip.
            url = upload(k, os.path.join(SAMPLES, "sinks", "file2.so"))
            self.assertEqual(k.request("POST", "/plugins/sinks", {"name": "file2", "file": url}),
                             (201, "sink plugin file2 is created"))
            zpath = os.path.join(k.data, "uploads", "random.zip")
            with zipfile.ZipFile(zpath, "w") as z:
                z.write(os.path.join(SAMPLES, "sources", "random.so"), "random.so")
            self.assertEqual(k.request("POST", "/plugins/sources", {"name": "random", "file": "file://" + zpath}),
                             (201, "source plugin random is created"))
            self.assertEqual(k.request("GET", "/plugins/sources"), (200, ["random"]))
            self.assertEqual(k.request("GET", "/plugins/sinks"), (200, ["file2"]))

            # Wrong kind, wrong name, broken plugins: refused with the reason, nothing kept.
            status, body = k.request("POST", "/plugins/sinks", {"name": "echo2", "file": upload(
                k, os.path.join(SAMPLES, "functions", "echo.so"), "echo2.so")})
            self.assertEqual(status, 400, body)
            self.assertIn("its name is echo", body["message"])
            status, body = k.request("POST", "/plugins/functions", {"name": "badabi", "file": upload(
                k, os.path.join(BROKEN, "badabi.so"))})
            self.assertEqual(status, 400, body)
            self.assertIn("ABI version", body["message"])
            status, body = k.request("POST", "/plugins/functions", {"name": "noentry", "file": upload(
                k, os.path.join(BROKEN, "noentry.so"))})
            self.assertEqual(status, 400, body)
            self.assertIn("missing symbol ek_plugin_entry", body["message"])
            self.assertEqual(k.request("GET", "/plugins/functions"), (200, ["echo"]))

            # Installed plugins come back after a restart.
            k.restart()
            self.assertEqual(k.request("GET", "/plugins/functions"), (200, ["echo"]))
            self.assertEqual(k.request("GET", "/plugins/sources"), (200, ["random"]))
            self.assertEqual(k.request("GET", "/rules/r1")[0], 200)

            status, text = k.request("DELETE", "/plugins/functions/echo")
            self.assertEqual(status, 200, text)
            self.assertTrue(text.startswith("function plugin echo is deleted"), text)
            self.assertEqual(k.request("GET", "/plugins/functions/echo")[0], 404)
            self.assertEqual(k.request("DELETE", "/plugins/functions/echo")[0], 404)
            self.assertEqual(k.request("GET", "/plugins/udfs"), (200, []))
            self.assertEqual(k.request("POST", "/rules", echo_rule("after"))[0], 400)
            k.restart()
            self.assertEqual(k.request("GET", "/plugins/functions"), (200, []))

    def test_cli_plugin_commands(self):
        with Kuiperd(env={"KUIPER__BASIC__ALLOWEXTERNALFILEACCESS": "true"}) as k:
            def cli(*args):
                return kuiper(k.rest_port, *args)[1]

            out = cli("create", "plugin", "function", "echo",
                      '{"file":"file://%s"}' % os.path.join(SAMPLES, "functions", "echo.so"))
            self.assertEqual(out.splitlines()[-1], "Plugin echo is created.", out)
            self.assertEqual(cli("show", "plugins", "function").splitlines()[-1], "echo")
            self.assertIn('"echo"', cli("describe", "plugin", "function", "echo"))
            self.assertIn('"plugin"', cli("describe", "udf", "echo"))
            self.assertEqual(cli("show", "udfs").splitlines()[-1], "echo")
            out = cli("drop", "plugin", "function", "echo")
            self.assertIn("Plugin echo is dropped", out)
            self.assertEqual(cli("show", "udfs").splitlines()[-1], "No udf is found.")


if __name__ == "__main__":
    main()
