"""Fixtures for the local tooling: the SageMaker simulator on loopback and boto3 clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from local._http import LocalServer
from local.sagemaker_sim import SageMakerSim

NO_RETRIES = {"total_max_attempts": 1, "mode": "standard"}
_SESSION = boto3.session.Session()  # one loader: the sagemaker model is parsed once


def make_client(url: str, *, validate: bool = True, retries: dict | None = None, read_timeout: float = 10):
    return _SESSION.client(
        "sagemaker",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIATESTTESTTEST0000",
        aws_secret_access_key="test-secret",
        config=Config(
            parameter_validation=validate,
            retries=retries or NO_RETRIES,
            read_timeout=read_timeout,
            connect_timeout=2,
        ),
    )


@pytest.fixture
def sim() -> SageMakerSim:
    return SageMakerSim()


@pytest.fixture
def sim_server(sim: SageMakerSim) -> Iterator[LocalServer]:
    server = LocalServer(sim, label="aws").start()
    sim.studio_base_url = server.url
    try:
        yield server
    finally:
        sim.close()
        server.stop()


@pytest.fixture
def client(sim_server: LocalServer):
    """boto3 as the portal uses it (client-side validation on), without retries."""
    return make_client(sim_server.url)


@pytest.fixture
def raw_client(sim_server: LocalServer):
    """boto3 with client-side validation off, so what botocore would catch reaches the simulator."""
    return make_client(sim_server.url, validate=False)
