import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--quick", action="store_true", help="about a tenth of the default guest sizes")
    parser.addoption("--scale", type=float, default=1.0, help="scale the default guest sizes")


@pytest.fixture(scope="session")
def sizes(request) -> dict[str, int]:
    from bt_vmm.bench import sizes_for

    return sizes_for(request.config.getoption("--quick"), request.config.getoption("--scale"))
