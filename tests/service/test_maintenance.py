"""The maintenance flag against a real Redis, switched by the documented command."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import redis

from gateway.maintenance import MaintenanceSwitch
from gateway.problems import ApiError


def test_the_command_switches_what_every_gateway_reads():
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    prefix = f"memberspace-test:{uuid.uuid4().hex}:"
    env = {**os.environ, "GATEWAY_REDIS_PREFIX": prefix,
           "GATEWAY_REDIS_URL": "redis://127.0.0.1:6379/0"}
    switch = MaintenanceSwitch(client, prefix)  # another replica's view
    switch.refuse_changes()  # off: nothing raised
    try:
        subprocess.run([sys.executable, "-m", "gateway.maintenance", "on", "--en", "Back at 2"],
                       env=env, check=True, capture_output=True, timeout=30)
        state = switch.state()
        assert state["active"] and state["message_en"] == "Back at 2"
        assert state["message_fr"]  # the default French message
        with pytest.raises(ApiError) as caught:
            switch.refuse_changes()
        assert (caught.value.status, caught.value.code) == (503, "maintenance")
        assert caught.value.headers["Retry-After"]
    finally:
        subprocess.run([sys.executable, "-m", "gateway.maintenance", "off"], env=env,
                       check=True, capture_output=True, timeout=30)
    assert switch.state() == {"active": False, "message_fr": None, "message_en": None}
