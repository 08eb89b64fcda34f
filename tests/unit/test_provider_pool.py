"""helmlife lifts the Python SDK's four-thread bound of the dynamic-provider process
(helmlife.provider_pool), checked in the SDK's real provider server."""
from __future__ import annotations

import base64
import os
import subprocess
import sys
from concurrent import futures
from pathlib import Path
from typing import Iterator

import dill
import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from helmlife import provider_pool
from tests.unit.pool_probe import PARTIES, PoolProbe

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def provider_server() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """`python -m pulumi.dynamic`, the process the engine starts for every dynamic provider."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HELMLIFE_PROVIDER_THREADS", None)
    proc = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.dynamic"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        proc.kill()
        proc.wait()


def check_request(**props: object) -> provider_pb2.CheckRequest:
    news = struct_pb2.Struct()
    news.update({"__provider": base64.b64encode(dill.dumps(PoolProbe("release"))).decode(), **props})
    return provider_pb2.CheckRequest(urn="urn:pulumi:t::p::pulumi-python:dynamic:Resource::probe",
                                     olds=struct_pb2.Struct(), news=news)


def test_step_operations_run_more_than_four_at_once_in_the_sdk_provider_process(provider_server) -> None:
    # The engine's first call loads helmlife's provider (and widens the pool); then PARTIES
    # checks that each wait for all the others can only finish if they run at the same time.
    provider_server.Check(check_request(warmup=True), timeout=60)
    with futures.ThreadPoolExecutor(PARTIES) as client:
        calls = [client.submit(provider_server.Check, check_request(n=i), timeout=60) for i in range(PARTIES)]
        assert all(c.result().inputs["n"] == i for i, c in enumerate(calls))


def test_widen_raises_a_grpc_server_pool_only_in_the_provider_process() -> None:
    pool = futures.ThreadPoolExecutor(max_workers=4)
    server = grpc.server(pool)
    try:
        assert provider_pool.widen(16) == []  # pytest is not `python -m pulumi.dynamic`
        assert pool._max_workers == 4
        assert pool in provider_pool.widen(16, anywhere=True)
        assert pool._max_workers == 16
        assert provider_pool.widen(8, anywhere=True) == [] and pool._max_workers == 16  # never lowered
    finally:
        server.stop(0)
        pool.shutdown()
