import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--quick", action="store_true", help="about a tenth of the default guest sizes")
    parser.addoption("--scale", type=float, default=1.0, help="scale the default guest sizes")


@pytest.fixture(scope="session")
def size_of(request):
    """size_of(program, workload) under the session's --quick/--scale."""
    from bt_vmm.bench import sizes_for

    quick, scale = request.config.getoption("--quick"), request.config.getoption("--scale")
    return lambda program, workload: sizes_for(workload, quick, scale)[program]
