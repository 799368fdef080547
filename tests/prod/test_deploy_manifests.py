"""deploy/k8s uses the same variables as `make run-prod` (offline; runs in make test too)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Set

import yaml

from bot import deployment, production

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SECRET_NAME = "massage-assistant-secrets"


def documents() -> List[Dict[str, Any]]:
    return [d for f in sorted(K8S.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]


def find(kind: str, name: str) -> Dict[str, Any]:
    return next(d for d in documents() if d["kind"] == kind and d["metadata"]["name"] == name)


def container_env(deployment_name: str) -> Dict[str, Any]:
    """Variable -> value (a literal, or ('secret', key)) as the container will see it."""
    spec = find("Deployment", deployment_name)["spec"]["template"]["spec"]["containers"][0]
    env: Dict[str, Any] = {}
    for source in spec.get("envFrom", []):
        env.update(find("ConfigMap", source["configMapRef"]["name"])["data"])
    for item in spec.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            assert ref["name"] == SECRET_NAME
            env[item["name"]] = ("secret", ref["key"])
    return env


def project_variables() -> Set[str]:
    """Every variable run-prod and the project read: bot/production.py's settings and the
    README's configuration tables."""
    readme = (ROOT / "README.md").read_text()
    return set(production.DEFAULTS) | {"DATABASE_URL", "ACTION_ENDPOINT_URL", "RASA_TOKEN", "REDIS_PASSWORD"} \
        | set(re.findall(r"`([A-Z][A-Z0-9_]{2,})`", readme))


def test_every_manifest_variable_is_one_run_prod_knows() -> None:
    known = project_variables()
    for name in ("massage-rasa", "massage-actions", "massage-analytics", "massage-outbox-relay"):
        unknown = set(container_env(name)) - known
        assert not unknown, f"{name}: {unknown}"


def test_rasa_pods_get_the_production_endpoints_from_the_same_variables() -> None:
    env = container_env("massage-rasa")
    literal = {k: (f"from-secret-{v[1]}" if isinstance(v, tuple) else v) for k, v in env.items()}
    endpoints = deployment.endpoints(literal)
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    assert endpoints["lock_store"]["type"] == "bot.delivery.locks.PostgresLockStore"
    assert endpoints["tracker_store"]["outbox"] is True
    service = find("Service", "massage-actions")["spec"]["ports"][0]["port"]
    assert endpoints["action_endpoint"]["url"].endswith(f"massage-actions.massage-assistant.svc.cluster.local:{service}/webhook")
    for variable in ("TRACKER_DB_HOST", "TRACKER_DB_NAME", "TRACKER_DB_USER", "RABBITMQ_HOST",
                     "RABBITMQ_QUEUE", "TRUSTED_PROXIES"):
        assert variable in env, variable


def test_secrets_come_only_from_the_secret() -> None:
    for name in ("massage-rasa", "massage-actions", "massage-analytics", "massage-outbox-relay"):
        env = container_env(name)
        for variable in env:
            if variable in production.SECRETS or variable == "DATABASE_URL":
                assert isinstance(env[variable], tuple), f"{name}: {variable} must come from {SECRET_NAME}"
    config = find("ConfigMap", "massage-assistant-config")["data"]
    assert not {k for k in config if "PASSWORD" in k or "TOKEN" in k}


def test_run_prod_exports_every_setting() -> None:
    script = (ROOT / "scripts" / "run-prod.sh").read_text()
    exported = set(re.findall(r"\b[A-Z][A-Z0-9_]+\b", script.split("export RASA_PORT", 1)[1].split("\n\n", 1)[0]))
    exported.add("RASA_PORT")
    assert set(production.DEFAULTS) - {"RABBITMQ_PORT"} <= exported | {"RABBITMQ_PORT"}


def test_probes_use_the_health_endpoints_and_resources_are_bounded() -> None:
    for name, path in (("massage-rasa", "/"), ("massage-actions", "/health")):
        container = find("Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == path
        assert container["livenessProbe"]["httpGet"]["path"] == path
        assert container["resources"]["requests"] and container["resources"]["limits"]
        assert find("Deployment", name)["spec"]["replicas"] >= 2
        assert find("HorizontalPodAutoscaler", name)["spec"]["minReplicas"] >= 2
    ingress = find("Ingress", "massage-assistant")
    assert ingress["spec"]["tls"][0]["secretName"]
