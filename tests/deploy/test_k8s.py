"""deploy/k8s: every overlay renders (`kubectl kustomize`), every core manifest is valid
for the pinned Kubernetes version (`kubernetes-validate --strict`), every custom
resource matches the small schema committed beside this test for the fields we set, and
the manifests say what the services need."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from deploy import k8s_manifests as k8s
from services.kit.loader import load_service

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).parent / "schemas"
KUBERNETES_VERSION = "1.32.0"
OVERLAYS = ["dev", "production"]
CORE_GROUPS = {"v1", "apps/v1", "policy/v1", "autoscaling/v2", "networking.k8s.io/v1"}
# settings that other work in flight adds (the staff issue's internal gateway)
PENDING_SETTINGS = {"GATEWAY_STAFF_ROUTES"}


@functools.cache
def render(overlay: str) -> list[dict]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed to render the overlays (see deploy/README.md)"
    out = subprocess.run([kubectl, "kustomize", str(k8s.OUT / "overlays" / overlay)],
                         check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def of_kind(overlay: str, kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in render(overlay) if d["kind"] == kind}


def test_the_committed_manifests_are_what_the_generator_writes():
    assert k8s.main(["--check"]) == 0, "run `make k8s`"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_core_manifest_is_valid_for_the_pinned_kubernetes(overlay):
    core = [d for d in render(overlay) if d["apiVersion"] in CORE_GROUPS]
    assert len(core) > 40
    for doc in core:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_custom_resource_matches_its_schema(overlay):
    custom = [d for d in render(overlay) if d["apiVersion"] not in CORE_GROUPS]
    assert {d["kind"] for d in custom} >= {"RabbitmqCluster", "Cluster", "Database"}
    for doc in custom:
        path = SCHEMAS / f"{doc['kind']}.json"
        assert path.is_file(), f"no schema for {doc['kind']}: add one in {SCHEMAS}"
        jsonschema.validate(doc, json.loads(path.read_text()))


def test_a_schema_rejects_a_field_we_do_not_know():
    cluster = dict(of_kind("production", "RabbitmqCluster")["memberspace-rabbitmq"])
    cluster["spec"] = {**cluster["spec"], "replica": 3}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(cluster, json.loads((SCHEMAS / "RabbitmqCluster.json").read_text()))


def test_strict_validation_rejects_an_unknown_field():
    deployment = of_kind("dev", "Deployment")["auth"]
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_value_is_in_the_repository(overlay):
    assert not of_kind(overlay, "Secret")
    for doc in render(overlay):
        if doc["kind"] == "ConfigMap":
            # a key file's path is fine; a password or secret itself is not
            assert not [k for k in doc["data"] if ("PASSWORD" in k or "SECRET" in k)
                        and not k.endswith("_FILE")]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_runs_its_image_with_probes_migrations_and_a_grace_period(overlay):
    deployments = of_kind(overlay, "Deployment")
    for service, spec in k8s.SERVICES.items():
        pod = deployments[service]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["image"].split("/")[-1].startswith(f"{service}:")
        assert load_service(container["args"][0]).name == service
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["terminationGracePeriodSeconds"] == k8s.GRACE_SECONDS
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert probe in container, (service, probe)
        # the probes are the process's own HTTP endpoints on METRICS_PORT, no RPC per probe
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert ports["metrics"] == int(env["METRICS_PORT"]) == k8s.METRICS_PORT
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "metrics"}
        if service == "gateway":
            assert ports["http"] == 8000
            continue
        init = {c["name"]: c["command"] for c in pod["initContainers"]}
        assert init["migrate"] == ["python", "-m", "services.kit.migrate", service]
        assert init["wait-for-topology"][-2:] == ["wait", spec["class"]]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env[f"{service.upper()}_DATABASE_URL"].endswith(f"/memberspace_{service}")
        assert env["AMQP_URI"].startswith("amqp://$(AMQP_USERNAME):$(AMQP_PASSWORD)@")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_settings_map_names_only_settings_its_service_has(overlay):
    maps = of_kind(overlay, "ConfigMap")
    for service, spec in k8s.SERVICES.items():
        known = set(load_service(spec["class"]).settings_schema().fields)
        common = set(maps["memberspace-common"]["data"])
        assert set(maps[f"{service}-settings"]["data"]) | common <= known | PENDING_SETTINGS


def test_production_turns_quorum_queues_on_and_dev_leaves_them_off():
    for overlay, value in (("production", "true"), ("dev", "false")):
        maps = of_kind(overlay, "ConfigMap")
        assert {maps[f"{s}-settings"]["data"]["AMQP_QUORUM_QUEUES"] for s in k8s.SERVICES} == {
            value}


def test_production_has_a_3_node_pinned_broker_backups_and_two_gateways():
    (broker,) = of_kind("production", "RabbitmqCluster").values()
    assert broker["spec"]["replicas"] == 3 and broker["spec"]["image"] == k8s.RABBITMQ_IMAGE
    (cluster,) = of_kind("production", "Cluster").values()
    assert cluster["spec"]["backup"]["barmanObjectStore"]["destinationPath"].startswith("s3://")
    assert {r["name"] for r in cluster["spec"]["managed"]["roles"]} == {
        s for s, spec in k8s.SERVICES.items() if spec["database"]}
    assert of_kind("production", "ScheduledBackup")
    maps = of_kind("production", "ConfigMap")
    assert maps["gateway-settings"]["data"]["GATEWAY_STAFF_ROUTES"] == "false"
    assert maps["gateway-settings-internal"]["data"]["GATEWAY_STAFF_ROUTES"] == "true"
    services = of_kind("production", "Service")
    deployments = of_kind("production", "Deployment")
    for name in ("gateway", "gateway-internal"):
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert services[name]["spec"]["selector"].items() <= labels.items()
        assert labels["app.kubernetes.io/name"] == name
    ingresses = of_kind("production", "Ingress")
    assert ingresses["gateway"]["spec"]["rules"][0]["host"] != (
        ingresses["gateway-internal"]["spec"]["rules"][0]["host"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_gateway_listens_on_all_interfaces_behind_trusted_proxies_with_redis(overlay):
    data = of_kind(overlay, "ConfigMap")["gateway-settings"]["data"]
    assert data["WEB_SERVER_ADDRESS"].startswith("0.0.0.0:")
    assert data["GATEWAY_TRUSTED_PROXIES"]
    assert "memberspace-redis" in of_kind(overlay, "Service")
    assert data["GATEWAY_REDIS_URL"].startswith("redis://memberspace-redis:")
