"""Shared fixtures for the loopback flows: the stack `make dev` runs (single domain), and its simulator."""

import pytest

from local.stack import running_stack


@pytest.fixture(scope="module")
def stack():
    with running_stack() as running:
        yield running


@pytest.fixture
def sim(stack):
    stack.sim.reset()
    yield stack.sim
    stack.sim.reset()
