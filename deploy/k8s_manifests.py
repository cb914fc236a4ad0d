"""Writes `deploy/k8s/`: Kustomize bases per service and the overlays dev and production.

    python -m deploy.k8s_manifests          # (re)write deploy/k8s/ (`make k8s`)
    python -m deploy.k8s_manifests --check  # exit 1 if a committed file is stale

The manifests are data, written from this one description so that the six services
stay alike; edit here, not the YAML. deploy/README.md ("Kubernetes") explains them.
`deploy/k8s/base/broker/` (the RabbitmqCluster and the broker topology) is not written
here when it holds more than the cluster: the bus issue generates the topology.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "deploy" / "k8s"
PART_OF = "memberspace"
UID = 10001
TMP = "/tmp"  # noqa: S108 (an emptyDir of the pod's own)
GRACE_SECONDS = 40  # the runner finishes running workers within 30 s; 10 s of margin
RABBITMQ_IMAGE = "rabbitmq:3.13.7-management"
POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:16.4"
REDIS_IMAGE = "redis:7.2.5-alpine"
AMQP_HOST = "memberspace-rabbitmq"      # the RabbitmqCluster's client Service
AMQP_VHOST = "memberspace"
PG_HOST = "memberspace-postgres-rw"     # CloudNativePG's read-write Service

SERVICES: dict[str, dict[str, Any]] = {
    "auth": {"class": "services.auth.service:AuthService", "database": True,
             "memory": ("512Mi", "1536Mi"), "cpu": "250m",  # argon2id: 64 MiB per hash
             "settings": {
                 "AUTH_SIGNING_KEY_FILE": "/etc/memberspace/keys/auth-signing-ed25519.pem"},
             "secret_env": {"AUTH_MCONNECT_CLIENT_SECRET": ("auth-mconnect", "client-secret")},
             "key_secret": "auth-signing-key", "egress_https": True},
    "notifications": {"class": "services.notifications.service:NotificationsService",
                      "database": True, "memory": ("192Mi", "512Mi"), "cpu": "100m",
                      "settings": {"NOTIFICATIONS_SMTP_HOST": "smtp.example.mc",
                                   "NOTIFICATIONS_SMTP_PORT": "587",
                                   "NOTIFICATIONS_SMTP_TLS": "starttls",
                                   "NOTIFICATIONS_PUBLIC_BASE_URL": "https://app.example.mc"},
                      "secret_env": {
                          "NOTIFICATIONS_SMTP_USERNAME": ("notifications-smtp", "username"),
                          "NOTIFICATIONS_SMTP_PASSWORD": ("notifications-smtp", "password")},
                      "egress_ports": [25, 465, 587]},
    "benefits": {"class": "services.benefits.service:BenefitsService", "database": True,
                 "memory": ("256Mi", "768Mi"), "cpu": "100m", "s3": True,
                 "settings": {
                     "BENEFITS_CARD_KEY_FILE": "/etc/memberspace/keys/benefits-card-ed25519.pem",
                     "BENEFITS_SECRET_KEY_FILE": "/etc/memberspace/keys/benefits-secrets.key",
                     "BENEFITS_WALLET_DIR": "/var/lib/memberspace/wallet",
                     "BENEFITS_APPLE_WEB_SERVICE_URL":
                         "https://api.example.mc/api/v1/wallet/apple"},
                 "key_secret": "benefits-keys", "writable": "/var/lib/memberspace/wallet"},
    "documents": {"class": "services.documents.service:DocumentsService", "database": True,
                  "memory": ("256Mi", "768Mi"), "cpu": "100m", "s3": True,
                  "settings": {"DOCUMENTS_EXTERNAL_TYPES":
                               "career_statement=pension:submitted:auto,"
                               "retirement_pension=pension:draft",
                               "DOCUMENTS_PUBLIC_BASE_URL": "https://api.example.mc"}},
    "pension": {"class": "services.pension.service:PensionService", "database": True,
                "memory": ("256Mi", "768Mi"), "cpu": "100m", "s3": True, "settings": {}},
    "gateway": {"class": "gateway.service:GatewayService", "database": False,
                "memory": ("256Mi", "768Mi"), "cpu": "250m", "s3": True,
                "settings": {"WEB_SERVER_ADDRESS": "0.0.0.0:8000",
                             # the ingress controller's pods (set your cluster's range)
                             "GATEWAY_TRUSTED_PROXIES": "10.244.0.0/16",
                             "GATEWAY_REDIS_URL": "redis://memberspace-redis:6379/0",
                             "GATEWAY_SERVICES": "auth,notifications,benefits,documents,pension",
                             "GATEWAY_COOKIE_SECURE": "true",
                             "GATEWAY_WEB_APP_URL": "https://app.example.mc/",
                             # the public gateway; production adds an internal one with them
                             "GATEWAY_STAFF_ROUTES": "false",
                             "DOCUMENTS_MAX_UPLOAD_BYTES": "10485760"}},
}


def labels(name: str, component: str | None = None) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component or name,
            "app.kubernetes.io/part-of": PART_OF}


def selector(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF}


def meta(name: str, component: str) -> dict[str, Any]:
    return {"name": name, "labels": labels(name, component)}


def secret_env(name: str, secret: str, key: str, optional: bool = False) -> dict[str, Any]:
    ref: dict[str, Any] = {"name": secret, "key": key}
    if optional:
        ref["optional"] = True
    return {"name": name, "valueFrom": {"secretKeyRef": ref}}


METRICS_PORT = 9100  # /metrics, /livez, /readyz of every process (services.kit.probes)


def http_probe(path: str, period: int, failures: int, port: str = "metrics") -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": period,
            "timeoutSeconds": 5, "failureThreshold": failures}


def container_security() -> dict[str, Any]:
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]}}


def deployment(service: str, spec: dict[str, Any]) -> dict[str, Any]:
    env: list[dict[str, Any]] = [
        secret_env("AMQP_USERNAME", f"memberspace-{service}-amqp", "username"),
        secret_env("AMQP_PASSWORD", f"memberspace-{service}-amqp", "password"),
        {"name": "AMQP_URI",
         "value": f"amqp://$(AMQP_USERNAME):$(AMQP_PASSWORD)@{AMQP_HOST}:5672/{AMQP_VHOST}"},
        {"name": "METRICS_PORT", "value": str(METRICS_PORT)},
    ]
    if spec["database"]:
        env += [secret_env("DB_USERNAME", f"memberspace-{service}-db", "username"),
                secret_env("DB_PASSWORD", f"memberspace-{service}-db", "password"),
                {"name": f"{service.upper()}_DATABASE_URL",
                 "value": f"postgresql+psycopg2://$(DB_USERNAME):$(DB_PASSWORD)@{PG_HOST}"
                          f":5432/memberspace_{service}"}]
    if spec.get("s3"):
        env += [secret_env("S3_ACCESS_KEY_ID", "memberspace-s3", "access-key-id"),
                secret_env("S3_SECRET_ACCESS_KEY", "memberspace-s3", "secret-access-key")]
    for name, (secret, key) in spec.get("secret_env", {}).items():
        env.append(secret_env(name, secret, key, optional=True))
    env_from = [{"configMapRef": {"name": "memberspace-common"}},
                *([{"configMapRef": {"name": "memberspace-s3"}}] if spec.get("s3") else []),
                {"configMapRef": {"name": f"{service}-settings"}}]
    mounts = [{"name": "tmp", "mountPath": TMP}]
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {}}]
    if spec.get("key_secret"):
        mounts.append({"name": "keys", "mountPath": "/etc/memberspace/keys", "readOnly": True})
        volumes.append({"name": "keys", "secret": {"secretName": spec["key_secret"],
                                                   "defaultMode": 0o440}})
    if spec.get("writable"):
        mounts.append({"name": "data", "mountPath": spec["writable"]})
        volumes.append({"name": "data", "emptyDir": {}})
    container: dict[str, Any] = {
        "name": service, "image": f"memberspace/{service}",
        "args": [spec["class"]], "env": env, "envFrom": env_from,
        "resources": {"requests": {"cpu": spec["cpu"], "memory": spec["memory"][0]},
                      "limits": {"memory": spec["memory"][1]}},
        "securityContext": container_security(), "volumeMounts": mounts,
    }
    container["ports"] = [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}]
    if service == "gateway":
        container["ports"].insert(0, {"name": "http", "containerPort": 8000, "protocol": "TCP"})
    # /livez: the broker consumer connection is up; /readyz: and the database answers; no
    # RPC round trip per probe. Startup: a first instance copies auth's members (minutes).
    container["startupProbe"] = http_probe("/livez", 10, 60)
    container["livenessProbe"] = http_probe("/livez", 10, 3)
    container["readinessProbe"] = http_probe("/readyz", 10, 2)
    init: list[dict[str, Any]] = []
    base_init = {"image": f"memberspace/{service}", "env": env, "envFrom": env_from,
                 "securityContext": container_security(),
                 "resources": {"requests": {"cpu": "50m", "memory": "128Mi"},
                               "limits": {"memory": "256Mi"}},
                 "volumeMounts": [{"name": "tmp", "mountPath": TMP}]}
    if spec["database"]:
        init.append({"name": "migrate", **base_init,
                     "command": ["python", "-m", "services.kit.migrate", service]})
        # the event queues come from the broker topology (base/broker): wait for them
        init.append({"name": "wait-for-topology", **base_init,
                     "command": ["python", "-m", "services.kit.queue_admin", "wait",
                                 spec["class"]]})
    pod: dict[str, Any] = {
        "serviceAccountName": f"memberspace-{service}",
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": GRACE_SECONDS,
        "securityContext": {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID,
                            "fsGroup": UID, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container], "volumes": volumes,
    }
    if init:
        pod["initContainers"] = init
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(service, service),
            "spec": {"replicas": 2, "revisionHistoryLimit": 5,
                     "selector": {"matchLabels": selector(service)},
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                     "template": {"metadata": {"labels": labels(service)}, "spec": pod}}}


def dns_egress() -> dict[str, Any]:
    return {"to": [{"namespaceSelector": {}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}


def pods_egress(pod_labels: dict[str, str], port: int) -> dict[str, Any]:
    return {"to": [{"podSelector": {"matchLabels": pod_labels}}],
            "ports": [{"protocol": "TCP", "port": port}]}


def outside_egress(ports: list[int]) -> dict[str, Any]:
    return {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
            "ports": [{"protocol": "TCP", "port": p} for p in ports]}


def network_policy(service: str, spec: dict[str, Any]) -> dict[str, Any]:
    egress = [dns_egress(), pods_egress({"app.kubernetes.io/name": AMQP_HOST}, 5672)]
    if spec["database"]:
        egress.append(pods_egress({"cnpg.io/cluster": "memberspace-postgres"}, 5432))
    if service == "gateway":
        egress.append(pods_egress({"app.kubernetes.io/name": "memberspace-redis"}, 6379))
    outside = ([443, 9000] if spec.get("s3") else []) + ([443] if spec.get("egress_https") else [])
    outside += spec.get("egress_ports", [])
    if outside:  # S3 (443, MinIO 9000), MConnect (443), SMTP
        egress.append(outside_egress(sorted(set(outside))))
    ingress: list[dict[str, Any]] = []
    if service == "gateway":
        ingress = [{"from": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "ingress-nginx"}}}],
            "ports": [{"protocol": "TCP", "port": 8000}]}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": meta(service, service),
            "spec": {"podSelector": {"matchLabels": selector(service)},
                     "policyTypes": ["Ingress", "Egress"], "ingress": ingress,
                     "egress": egress}}


def service_base(service: str, spec: dict[str, Any]) -> dict[str, Any]:
    settings = {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json", "MAX_WORKERS": "20",
                "AMQP_QUORUM_QUEUES": "false", **spec["settings"]}
    files = {
        "serviceaccount.yaml": {"apiVersion": "v1", "kind": "ServiceAccount",
                                "metadata": meta(f"memberspace-{service}", service),
                                "automountServiceAccountToken": False},
        "configmap.yaml": {"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": meta(f"{service}-settings", service), "data": settings},
        "deployment.yaml": deployment(service, spec),
        "pdb.yaml": {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                     "metadata": meta(service, service),
                     "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(service)}}},
        "hpa.yaml": {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                     "metadata": meta(service, service),
                     "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                                 "name": service},
                              "minReplicas": 2, "maxReplicas": 6,
                              "metrics": [{"type": "Resource", "resource": {
                                  "name": "cpu", "target": {"type": "Utilization",
                                                            "averageUtilization": 70}}}]}},
        "networkpolicy.yaml": network_policy(service, spec),
    }
    if service == "gateway":
        files["service.yaml"] = {
            "apiVersion": "v1", "kind": "Service", "metadata": meta("gateway", "gateway"),
            "spec": {"selector": selector("gateway"),
                     "ports": [{"name": "http", "port": 80, "targetPort": "http",
                                "protocol": "TCP"}]}}
        files["ingress.yaml"] = {
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {**meta("gateway", "gateway"), "annotations": {
                # DOCUMENTS_MAX_UPLOAD_BYTES + 64 KiB, or members get the proxy's own 413
                "nginx.ingress.kubernetes.io/proxy-body-size": "11m",
                "nginx.ingress.kubernetes.io/proxy-read-timeout": "60"}},
            "spec": {"ingressClassName": "nginx",
                     "tls": [{"hosts": ["api.example.mc"], "secretName": "gateway-tls"}],
                     "rules": [{"host": "api.example.mc", "http": {"paths": [{
                         "path": "/", "pathType": "Prefix", "backend": {"service": {
                             "name": "gateway", "port": {"name": "http"}}}}]}}]}}
    return files


def common_base() -> dict[str, Any]:
    return {"configmap.yaml": {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("memberspace-common", "common"),
        "data": {"TIMEZONE": "Europe/Monaco"}},
        # any S3-compatible store (AWS S3, MinIO, Ceph RGW): see deploy/README.md
        "configmap-s3.yaml": {
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("memberspace-s3", "common"),
            "data": {"S3_ENDPOINT_URL": "https://s3.example.mc", "S3_REGION": "eu-west-3",
                     "S3_BUCKET_PREFIX": "memberspace-"}}}


def redis_base() -> dict[str, Any]:
    name = "memberspace-redis"
    return {
        "deployment.yaml": {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name, "redis"),
            "spec": {"replicas": 1, "selector": {"matchLabels": selector(name)},
                     "template": {"metadata": {"labels": labels(name, "redis")}, "spec": {
                         "automountServiceAccountToken": False,
                         "securityContext": {"runAsNonRoot": True, "runAsUser": 999,
                                             "runAsGroup": 999,
                                             "seccompProfile": {"type": "RuntimeDefault"}},
                         "containers": [{
                             "name": "redis", "image": REDIS_IMAGE,
                             # limits and idempotency keys are short-lived: nothing on disk
                             "args": ["--save", "", "--appendonly", "no"],
                             "ports": [{"name": "redis", "containerPort": 6379}],
                             "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                                           "limits": {"memory": "256Mi"}},
                             "securityContext": container_security(),
                             "livenessProbe": {"exec": {"command": ["redis-cli", "ping"]},
                                               "periodSeconds": 15},
                             "readinessProbe": {"exec": {"command": ["redis-cli", "ping"]},
                                                "periodSeconds": 5}}]}}}},
        "service.yaml": {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, "redis"),
                         "spec": {"selector": selector(name), "ports": [
                             {"name": "redis", "port": 6379, "targetPort": "redis"}]}},
        "networkpolicy.yaml": {
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": meta(name, "redis"),
            "spec": {"podSelector": {"matchLabels": selector(name)},
                     "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"podSelector": {"matchLabels": {
                         "app.kubernetes.io/component": "gateway"}}}],
                         "ports": [{"protocol": "TCP", "port": 6379}]}]}},
    }


def broker_base() -> dict[str, Any]:
    return {"rabbitmqcluster.yaml": {
        "apiVersion": "rabbitmq.com/v1beta1", "kind": "RabbitmqCluster",
        "metadata": meta(AMQP_HOST, "broker"),
        "spec": {"replicas": 3, "image": RABBITMQ_IMAGE,
                 "resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
                               "limits": {"memory": "1Gi"}},
                 "persistence": {"storage": "10Gi"},
                 "rabbitmq": {"additionalConfig":
                              "cluster_partition_handling = pause_minority\n"
                              "vm_memory_high_watermark.relative = 0.7\n"}}}}


def postgres_base() -> dict[str, Any]:
    services = [s for s, spec in SERVICES.items() if spec["database"]]
    files: dict[str, Any] = {"cluster.yaml": {
        "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
        "metadata": meta("memberspace-postgres", "database"),
        "spec": {"instances": 3, "imageName": POSTGRES_IMAGE,
                 "storage": {"size": "20Gi"},
                 "postgresql": {"parameters": {"max_connections": "400"}},
                 "managed": {"roles": [
                     {"name": s, "ensure": "present", "login": True,
                      "passwordSecret": {"name": f"memberspace-{s}-db"}} for s in services]}}}}
    for s in services:
        files[f"database-{s}.yaml"] = {
            "apiVersion": "postgresql.cnpg.io/v1", "kind": "Database",
            "metadata": meta(f"memberspace-{s}", "database"),
            "spec": {"name": f"memberspace_{s}", "owner": s,
                     "cluster": {"name": "memberspace-postgres"}}}
    return files


def kustomization(resources: list[str], **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            **extra, "resources": resources}


def patch(target_kind: str, target_name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
    return {"target": {"kind": target_kind, "name": target_name},
            "patch": yaml.safe_dump(ops, sort_keys=False)}


def overlays() -> dict[str, Any]:
    workloads = list(SERVICES)
    common = ["../../base/common", "../../base/broker", "../../base/postgres",
              "../../base/redis"]
    dev_patches = []
    for s in workloads:
        dev_patches.append(patch("Deployment", s, [{"op": "replace", "path": "/spec/replicas",
                                                    "value": 1}]))
        dev_patches.append(patch("HorizontalPodAutoscaler", s, [
            {"op": "replace", "path": "/spec/minReplicas", "value": 1},
            {"op": "replace", "path": "/spec/maxReplicas", "value": 2}]))
    dev_patches += [
        patch("RabbitmqCluster", AMQP_HOST, [{"op": "replace", "path": "/spec/replicas",
                                              "value": 1}]),
        patch("Cluster", "memberspace-postgres", [{"op": "replace", "path": "/spec/instances",
                                                   "value": 1}]),
        patch("ConfigMap", "gateway-settings", [
            {"op": "replace", "path": "/data/GATEWAY_COOKIE_SECURE", "value": "false"}]),
    ]
    dev = {"kustomization.yaml": kustomization(
        ["namespace.yaml", *common, *[f"../../base/{s}" for s in workloads]],
        namespace="memberspace-dev",
        images=[{"name": f"memberspace/{s}", "newTag": "dev"} for s in workloads],
        patches=dev_patches),
        "namespace.yaml": {"apiVersion": "v1", "kind": "Namespace",
                           "metadata": {"name": "memberspace-dev"}}}
    quorum = [patch("ConfigMap", f"{s}-settings", [
        {"op": "replace", "path": "/data/AMQP_QUORUM_QUEUES", "value": "true"}])
        for s in workloads]
    images = [{"name": f"memberspace/{s}", "newName": f"registry.example.mc/memberspace/{s}",
               "newTag": "0.1.0"} for s in workloads]
    production = {
        "kustomization.yaml": kustomization(
            ["namespace.yaml", *common, *[f"../../base/{s}" for s in workloads],
             "gateway-internal", "backup.yaml"],
            namespace="memberspace", images=images,
            patches=[*quorum,
                     patch("Cluster", "memberspace-postgres", [{
                         "op": "add", "path": "/spec/backup", "value": {
                             "retentionPolicy": "30d",
                             "barmanObjectStore": {
                                 "destinationPath": "s3://memberspace-backups/postgres",
                                 "endpointURL": "https://s3.example.mc",
                                 "s3Credentials": {
                                     "accessKeyId": {"name": "memberspace-backup-s3",
                                                     "key": "access-key-id"},
                                     "secretAccessKey": {"name": "memberspace-backup-s3",
                                                         "key": "secret-access-key"}}}}}])]),
        "namespace.yaml": {"apiVersion": "v1", "kind": "Namespace",
                           "metadata": {"name": "memberspace"}},
        "backup.yaml": {"apiVersion": "postgresql.cnpg.io/v1", "kind": "ScheduledBackup",
                        "metadata": meta("memberspace-postgres-daily", "database"),
                        "spec": {"schedule": "0 0 2 * * *", "backupOwnerReference": "self",
                                 "cluster": {"name": "memberspace-postgres"}}},
    }
    name = "gateway-internal"
    relabel = [{"op": "replace", "path": p, "value": name} for p in (
        "/metadata/labels/app.kubernetes.io~1name",)]
    selectors = {"Deployment": ["/spec/selector/matchLabels", "/spec/template/metadata/labels"],
                 "Service": ["/spec/selector"],
                 "PodDisruptionBudget": ["/spec/selector/matchLabels"],
                 "NetworkPolicy": ["/spec/podSelector/matchLabels"]}
    selectors.update({kind: [] for kind in ("ServiceAccount", "ConfigMap", "Ingress",
                                            "HorizontalPodAutoscaler")})
    internal_patches = []
    for kind, paths in selectors.items():
        target = {"ServiceAccount": "memberspace-gateway",
                  "ConfigMap": "gateway-settings"}.get(kind, "gateway")
        internal_patches.append(patch(kind, target, relabel + [
            {"op": "replace", "path": f"{p}/app.kubernetes.io~1name", "value": name}
            for p in paths]))
    internal_patches += [
        patch("ConfigMap", "gateway-settings", [
            {"op": "replace", "path": "/data/GATEWAY_STAFF_ROUTES", "value": "true"}]),
        patch("Ingress", "gateway", [
            {"op": "replace", "path": "/spec/ingressClassName", "value": "nginx-internal"},
            {"op": "replace", "path": "/spec/tls/0/hosts/0", "value": "staff.example.mc"},
            {"op": "replace", "path": "/spec/tls/0/secretName", "value": "gateway-internal-tls"},
            {"op": "replace", "path": "/spec/rules/0/host", "value": "staff.example.mc"}]),
    ]
    production["gateway-internal/kustomization.yaml"] = kustomization(
        ["../../../base/gateway"], nameSuffix="-internal", patches=internal_patches)
    return {"dev": dev, "production": production}


def files() -> dict[Path, str]:
    out: dict[Path, Any] = {}
    bases = {"common": common_base(), "redis": redis_base(), "postgres": postgres_base(),
             **{s: service_base(s, spec) for s, spec in SERVICES.items()}}
    broker_dir = OUT / "base" / "broker"
    if not (broker_dir / "kustomization.yaml").is_file() or _broker_is_ours(broker_dir):
        bases["broker"] = broker_base()
    for name, docs in bases.items():
        for fname, doc in docs.items():
            out[OUT / "base" / name / fname] = doc
        out[OUT / "base" / name / "kustomization.yaml"] = kustomization(sorted(docs))
    for name, docs in overlays().items():
        for fname, doc in docs.items():
            out[OUT / "overlays" / name / fname] = doc
    header = "# Written by `make k8s` (deploy/k8s_manifests.py): edit there, not here.\n"
    return {path: header + yaml.safe_dump(doc, sort_keys=False, width=100)
            for path, doc in out.items()}


def _broker_is_ours(directory: Path) -> bool:
    return sorted(p.name for p in directory.iterdir()) == ["kustomization.yaml",
                                                           "rabbitmqcluster.yaml"]


def main(argv: list[str]) -> int:
    stale = []
    for path, text in files().items():
        if "--check" in argv:
            if not path.is_file() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("stale (run make k8s):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
