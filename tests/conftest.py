"""Shared test configuration: where the real data is, and the fixtures that build models once a session."""

pytest_plugins = [
    "tests.fixtures.data",
    "tests.fixtures.run",
    "tests.fixtures.bundle",
    "tests.fixtures.extension",
]
