import pytest

from harness import TernServer

USER = "alice@example.org"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def tern():
    """A running server with domain example.org and user alice (module-wide)."""
    server = TernServer()
    server.add_user(USER, PASSWORD)
    server.start()
    yield server
    server.close()


@pytest.fixture
def fresh_tern():
    """A server of the test's own, for tests that stop or signal it."""
    server = TernServer()
    server.add_user(USER, PASSWORD)
    server.start()
    yield server
    server.close()
