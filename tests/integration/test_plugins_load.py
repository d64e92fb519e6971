"""Plugins loaded at start by a real kuiperd from its plugins directory (eKuiper's layout):
the sample scalar function (echo), aggregate function (countPlusOne), source (random) and sink
(file2) used together by rules; and broken plugins (another ABI version, no entry symbol, a
function named like a built-in) refused with a log line naming the file while kuiperd keeps
running and the good plugins work. The .so files come from the build directory ($EK_BINARY_DIR:
plugins/ for the samples, plugins-test/ for the broken ones)."""
import json
import os
import shutil
import time
import unittest

from harness import SOURCE_DIR, Kuiperd, main, wait_for

BUILD = os.environ.get("EK_BINARY_DIR") or os.path.join(SOURCE_DIR, "build")
SAMPLES = os.path.join(BUILD, "plugins")
BROKEN = os.path.join(BUILD, "plugins-test")
RANDOM_YAML = "default:\n  interval: 20\n  seed: 7\n  pattern:\n    count: 50\n    site: edge\n"
STREAM = 'CREATE STREAM rnd () WITH (TYPE="random", DATASOURCE="rnd", FORMAT="json")'


def install_samples(k, kinds=("functions", "sources", "sinks")):
    """Copies the sample plugins into k's plugins directory before it starts."""
    for kind in kinds:
        shutil.copytree(os.path.join(SAMPLES, kind), os.path.join(k.dir, "plugins", kind),
                        ignore=shutil.ignore_patterns("CMakeFiles"))


def lines(path):
    try:
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]
    except OSError:
        return []


def file2_rule(rid, sql, path):
    return {"id": rid, "sql": sql, "actions": [{"file2": {"path": path, "sendSingle": True}}]}


class Samples(unittest.TestCase):
    def test_source_function_aggregate_and_sink_in_rules(self):
        k = Kuiperd(etc_files={"sources/random.yaml": RANDOM_YAML})
        install_samples(k)
        with k.start():
            self.assertEqual(k.request("GET", "/plugins/sources"), (200, ["random"]))
            self.assertEqual(k.request("GET", "/plugins/sinks"), (200, ["file2"]))
            status, funcs = k.request("GET", "/plugins/functions")
            self.assertEqual((status, sorted(funcs)), (200, ["countPlusOne", "echo"]))
            self.assertEqual(k.request("GET", "/plugins/udfs/echo"), (200, {"name": "echo", "plugin": "echo"}))
            self.assertEqual(k.request("POST", "/streams", {"sql": STREAM})[0], 201)

            out1 = os.path.join(k.dir, "echo.txt")
            status, body = k.request("POST", "/rules", file2_rule(
                "r_echo", "SELECT echo(count) AS e, count, echo(site) AS s FROM rnd", out1))
            self.assertEqual(status, 201, body)
            got = wait_for(lambda: len(lines(out1)) >= 3 and lines(out1), what="echo rows in file2")
            for row in got:
                self.assertEqual(row["e"], row["count"])
                self.assertTrue(0 <= row["count"] < 50, row)
                self.assertEqual(row["s"], "edge")

            out2 = os.path.join(k.dir, "agg.txt")
            status, body = k.request("POST", "/rules", file2_rule(
                "r_agg", "SELECT countPlusOne(count) AS c, count(*) AS n FROM rnd GROUP BY TUMBLINGWINDOW(ss, 1)",
                out2))
            self.assertEqual(status, 201, body)
            # The first window may be cut short by the rule's start; wait for a full one.
            got = wait_for(lambda: [r for r in lines(out2) if r["n"] > 1], timeout=8, what="an aggregate row")
            for row in lines(out2):
                self.assertEqual(row["c"], row["n"] + 1, row)

            # The plugin function behaves as a built-in for the binder: wrong arity is refused.
            status, body = k.request("POST", "/rules", file2_rule("r_bad", "SELECT echo(count, 1) FROM rnd", out1))
            self.assertEqual(status, 400, body)
            self.assertIn("echo", json.dumps(body))


class Broken(unittest.TestCase):
    def test_bad_plugins_are_refused_and_kuiperd_runs(self):
        k = Kuiperd()
        install_samples(k, kinds=("functions",))
        for so in ("badabi.so", "noentry.so", "clash.so"):
            shutil.copy(os.path.join(BROKEN, so), os.path.join(k.dir, "plugins", so))
        with k.start():
            out = k.output()
            self.assertRegex(out, r"plugins/badabi\.so: ABI version \d+, this kuiperd needs 1")
            self.assertRegex(out, r"plugins/noentry\.so: missing symbol ek_plugin_entry")
            self.assertRegex(out, r"plugins/clash\.so: function abs clashes with a built-in function")
            self.assertIsNone(k.proc.poll())
            status, funcs = k.request("GET", "/plugins/functions")
            self.assertEqual(sorted(funcs), ["countPlusOne", "echo"])
            self.assertEqual(k.request("GET", "/plugins/udfs/abs")[0], 404)
            # The good plugin is usable and the built-in abs is untouched.
            self.assertEqual(k.request("POST", "/streams", {"sql": 'CREATE STREAM m (a BIGINT) WITH '
                                                                    '(TYPE="memory", DATASOURCE="in/m")'})[0], 201)
            rule = {"id": "r1", "sql": "SELECT echo(a) AS e, abs(a) AS b FROM m",
                    "actions": [{"memory": {"topic": "out/m"}}]}
            status, body = k.request("POST", "/rules", rule)
            self.assertEqual(status, 201, body)
            self.assertEqual(k.request("GET", "/ping")[0], 200)


if __name__ == "__main__":
    main()
