#!/usr/bin/env python3
# Runs one test of the Eclipse Paho MQTT interoperability suite (client_test.py for MQTT 3.1.1,
# client_test5.py for MQTT 5) against a broker on 127.0.0.1:PORT, or lists the tests of a file.
#
# Why this exists: the suite is not shipped with kuiperd (it is fetched separately), and its own
# --hostname/--port handling is broken (client_test.py passes -p on to unittest.main, which rejects
# it). So we import the suite's module from the checkout named on the command line and set its
# module-level host, port and topic variables ourselves (client_test5.py's -h also matches its
# "--help" test and exits); none of the suite's code is copied here.
# run-paho-interop.sh calls this once per test, each in its own process under a timeout, because
# some tests (test_flow_control2) wait forever on a broker that never sends what they expect.
#
# Usage: paho_interop.py SUITE_DIR client_test|client_test5 PORT [TEST_NAME]
#        (without TEST_NAME: prints the test names, one a line)
import importlib
import logging
import os
import sys
import unittest

TOPICS = ("TopicA", "TopicA/B", "Topic/C", "TopicA/C", "/TopicA")
WILDTOPICS = ("TopicA/+", "+/C", "#", "/#", "/+", "+/+", "TopicA/#")


def load(suite_dir, name, port):
    """Imports the suite's module and sets the globals its __main__ block would have set."""
    sys.path.insert(0, os.path.join(suite_dir, "interoperability"))
    mod = importlib.import_module(name)
    mod.host = "127.0.0.1"
    mod.port = port
    mod.topic_prefix = "client_test5/"
    mod.topics = TOPICS
    mod.wildtopics = WILDTOPICS
    mod.nosubscribe_topics = ("test/nosubscribe",)
    logging.getLogger().setLevel(logging.ERROR)
    return mod


def main():
    if len(sys.argv) not in (4, 5) or sys.argv[2] not in ("client_test", "client_test5"):
        sys.stderr.write("usage: paho_interop.py SUITE_DIR client_test|client_test5 PORT [TEST_NAME]\n")
        return 2
    mod = load(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    if len(sys.argv) == 4:
        for name in unittest.TestLoader().getTestCaseNames(mod.Test):
            print(name)
        return 0
    suite = unittest.TestSuite([mod.Test(sys.argv[4])])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
