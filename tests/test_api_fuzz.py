"""Every endpoint of the OpenAPI spec, fuzzed by schemathesis: whatever a client sends, the answer is a
response below 500 (a clear 4xx or a result), never a crash. Bounded: a few examples per operation."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from childguard import Guard, Settings
from childguard.service import create_app
from childguard.store import Store

_DIR = Path(tempfile.mkdtemp(prefix="cg_fuzz_"))
_SETTINGS = Settings(key_file=_DIR / "key", spool_file=_DIR / "spool.log", rate_limit_per_minute=10**7,
                     rate_limit_burst=10**6, database_url=f"sqlite:///{_DIR}/cg.db")
APP = create_app(_SETTINGS, guard=Guard(_SETTINGS), store=Store(_SETTINGS))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_no_server_errors(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"
