"""Helpers shared by the REST API's integration tests (test_rest_ruleset.py, test_rest_data_v2.py):
FreshKuiperd, the base of the test classes that want a kuiperd of their own for every test."""
import unittest

from harness import Kuiperd


class FreshKuiperd(unittest.TestCase):
    """A fresh kuiperd (default configuration) per test as self.k; self.r(...) is self.k.request."""

    def setUp(self):
        self.k = Kuiperd().start()

    def tearDown(self):
        self.k.cleanup()

    def r(self, *a, **kw):
        return self.k.request(*a, **kw)
