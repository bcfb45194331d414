"""A real local Ray cluster for the distributed tests, small enough for a shared 2-core machine."""
from __future__ import annotations

import os

import pytest

RAY_INIT = {"address": "local", "num_cpus": 2, "object_store_memory": 300 * 1024**2, "include_dashboard": False, "logging_level": "WARNING"}


def _import_ray():
    try:
        import ray
        import ray.data
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Ray is not installed (it is in the test extra)")
        pytest.skip("Ray is not installed: pip install -e '.[ray]'")
    return ray


@pytest.fixture(scope="session")
def ray_cluster():
    ray = _import_ray()
    # "local": never join a cluster someone else started on this machine with `ray start`
    ray.init(**RAY_INIT)
    try:
        yield ray
    finally:
        ray.shutdown()
