from __future__ import annotations

import pytest

from childguard import Guard


@pytest.fixture(scope="session")
def guard() -> Guard:
    return Guard()
