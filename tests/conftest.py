"""Test setup shared by every layer.

eventlet must patch the standard library before anything imports it (nameko's
pytest plugin no longer does since 2.14), and psycopg2 must cooperate with it.

The suite under test gets its own RabbitMQ virtual host, its own databases and its
own port, so a running demo (`make run`) never answers a test, and the reverse.
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()

from services.kit.wire import install as install_wire_json  # noqa: E402

install_wire_json()  # as every service process does (services.kit.runner)

import os  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.support import TEST_ENV, Api, suite_overrides  # noqa: E402

LAYERS = ("unit", "service", "e2e", "deploy")  # tests/<layer>/: the pytest marker of each test


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).resolve().parent
    for item in items:
        try:
            layer = Path(item.path).resolve().relative_to(root).parts[0]
        except ValueError:
            continue
        if layer in LAYERS:
            item.add_marker(getattr(pytest.mark, layer))


@pytest.fixture(scope="session")
def oidc_provider():
    """A real OpenID provider process standing in for MConnect."""
    from tests.support_oidc import OidcProvider

    with OidcProvider(require_registration=True) as provider:
        yield provider


@pytest.fixture(scope="session")
def test_env(tmp_path_factory: pytest.TempPathFactory, oidc_provider) -> dict[str, str]:
    """Fresh vhost and databases for this run, a signing key and an MConnect client."""
    from deploy import infra
    from deploy.suite import dev_keys
    from services.auth.tokens import generate_key_file
    from services.kit.migrate import drop_database, upgrade

    infra.ensure()
    infra.ensure_vhost(TEST_ENV["vhost"], fresh=True)
    var = tmp_path_factory.mktemp("var")
    key = var / "keys" / "auth-signing-ed25519.pem"
    generate_key_file(key)
    env = suite_overrides(key)
    env.update({k: v for k, v in dev_keys(var).items() if k != "AUTH_SIGNING_KEY_FILE"})
    client_id, secret = oidc_provider.register_client([env["AUTH_MCONNECT_REDIRECT_URI"]])
    env.update({"AUTH_MCONNECT_DISCOVERY_URL": oidc_provider.discovery_url,
                "AUTH_MCONNECT_CLIENT_ID": client_id,
                "AUTH_MCONNECT_CLIENT_SECRET": secret})
    for service in ("auth", "notifications", "benefits", "documents", "pension"):
        url = env[f"{service.upper()}_DATABASE_URL"]
        drop_database(url)
        upgrade(service, url)
    web = var / "web"  # a stand-in for the built web app (webtests/ test the real one)
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text('<!doctype html><html lang="fr"><head><title>'
                                    'web-app-test-page</title></head><body></body></html>')
    (web / "assets" / "app-test.js").write_text("export {};\n")
    env["GATEWAY_WEB_DIR"] = str(web)
    os.environ.update(env)  # for in-process helpers (RPC proxies, settings)
    env["VAR_DIR"] = str(var)
    return env


@pytest.fixture(scope="session")
def suite(test_env: dict[str, str]):
    """The whole suite, started the way `make run` starts it."""
    from deploy.suite import Suite

    running = Suite.configure(Path(test_env["VAR_DIR"]), test_env)
    running.start(timeout=90)
    running.seed()
    yield running
    running.stop()


@pytest.fixture
def api(suite) -> Api:
    return Api(suite.gateway_url)


@pytest.fixture
def rpc(test_env):
    from services.kit.client import RpcClient

    with RpcClient(test_env["AMQP_URI"], timeout=30) as proxy:
        yield proxy


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]
