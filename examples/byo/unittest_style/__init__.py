"""A ``unittest.TestCase`` suite: one Chrome per class, built in ``setUpClass``; pytest runs it."""
