# The sandbox fixtures of the end-to-end tests (a fast-flood sandbox server and its client).
from tests.e2e.conftest import sandbox, server  # noqa: F401
