import pytest

from bt_vmm.engines import ENGINES


@pytest.fixture(params=sorted(ENGINES))
def engine(request) -> str:
    """Every test that runs guest code runs under each engine."""
    return request.param
