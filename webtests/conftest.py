"""Browser tests of the member web app: headless Debian Chromium driven by Playwright.

Kept outside tests/ on purpose: tests/conftest.py monkey-patches the standard library
with eventlet, under which Playwright's sync API hangs. Nothing is patched here.

The suite under test is started like `make run` starts it (deploy.suite.Suite), on its
own RabbitMQ virtual host, databases, ports and Redis prefix derived from
MEMBERSPACE_TEST_SLOT, with a local MConnect stand-in and the e-mail links pointing at
its own gateway. Screenshots go to tests/artifacts/web/ (ignored by git).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import SLOT, TEST_NAME, harness_uri, suite_overrides, test_port
from webtests.support import AXE, CHROMIUM, DESKTOP, ROOT

WEB_NAME = f"memberspace_web{SLOT or ''}"
GATEWAY_PORT = test_port(18060)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--disable-extensions"]


def ensure_chromium() -> None:
    """Debian's chromium: installed with apt when missing and root is available."""
    if Path(CHROMIUM).exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.exit("Chromium is missing: run `sudo apt-get install -y chromium`", returncode=4)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
        subprocess.run(install, env=env, capture_output=True, check=False)
    if not Path(CHROMIUM).exists():
        pytest.exit("Chromium could not be installed: run `apt-get install -y chromium`",
                    returncode=4)


def web_env(var: Path) -> dict[str, str]:
    """tests/support's overrides, moved to this run's own names and ports."""
    from deploy.suite import dev_keys

    env = {k: v.replace(TEST_NAME, WEB_NAME)
           .replace(TEST_NAME.replace("_", "-"), WEB_NAME.replace("_", "-"))
           for k, v in suite_overrides(var / "keys" / "auth-signing-ed25519.pem").items()}
    gateway = f"http://127.0.0.1:{GATEWAY_PORT}"
    env.update({
        # the tests' own broker user on this run's vhost (each service logs in as its own)
        "AMQP_URI": harness_uri(WEB_NAME),
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{GATEWAY_PORT}",
        "BENEFITS_APPLE_WEB_SERVICE_URL": f"{gateway}/api/v1/wallet/apple",
        "GATEWAY_WEB_APP_URL": f"{gateway}/",
        "GATEWAY_CORS_ORIGINS": "",
        "NOTIFICATIONS_PUBLIC_BASE_URL": gateway,
        "NOTIFICATIONS_SMTP_PORT": str(test_port(18065)),
        "S3_ENDPOINT_URL": f"http://127.0.0.1:{test_port(18070)}",
        "GATEWAY_WEB_DIR": str(ROOT / "gateway" / "web"),
    })
    env.pop("DOCUMENTS_EXTERNAL_TYPES")  # the suite's own pension types (no test service)
    env.pop("AUTH_MCONNECT_REDIRECT_URI")
    env.pop("GATEWAY_PASSWORD_CHECK_LIMIT_PER_IP", None)
    for name in [k for k in env if k.endswith("_METRICS_PORT")]:
        env.pop(name)  # no probe ports: tests/'s would meet this run's own ports
    env.update({k: v for k, v in dev_keys(var).items()})
    return env


@pytest.fixture(scope="session")
def suite(tmp_path_factory: pytest.TempPathFactory):
    from deploy import infra
    from deploy.suite import Suite
    from services.kit.migrate import drop_database, upgrade

    if not (ROOT / "gateway" / "web" / "index.html").exists():
        pytest.exit("The web app is not built: run `make web`", returncode=4)
    if not AXE.exists():
        pytest.exit("axe-core is missing: run `make web` (npm ci in webapp/)", returncode=4)
    ensure_chromium()
    infra.ensure()
    infra.ensure_vhost(WEB_NAME, fresh=True)
    var = tmp_path_factory.mktemp("var")
    env = web_env(var)
    for service in ("auth", "notifications", "benefits", "documents", "pension"):
        url = env[f"{service.upper()}_DATABASE_URL"]
        drop_database(url)
        upgrade(service, url)
    running = Suite.configure(var, env)
    running.start_mconnect_standin(test_port(18075))
    try:
        running.start(timeout=120)
        running.seed()
    except BaseException:
        running.stop()
        raise
    yield running
    running.stop()


@pytest.fixture(scope="session")
def rpc(suite):
    from services.kit.client import RpcClient

    with RpcClient(suite.env["AMQP_URI"], timeout=30) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def browser(suite):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20000)  # a password hash (argon2id) on a busy machine
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser, suite):
    ctx = browser.new_context(base_url=suite.gateway_url, viewport=DESKTOP, locale="fr-FR",
                              timezone_id="Europe/Monaco")
    ctx.set_default_timeout(20000)
    yield ctx
    ctx.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.failed_call = report.failed
    return report


@pytest.fixture
def page(context, request):
    page = context.new_page()
    page.csp_errors = []
    page.on("console", lambda m: page.csp_errors.append(m.text)
            if "Content Security Policy" in m.text else None)
    yield page
    if getattr(request.node, "failed_call", False):  # what the page showed when it failed
        from webtests.support import shoot

        shoot(page, f"failed-{request.node.name}")
