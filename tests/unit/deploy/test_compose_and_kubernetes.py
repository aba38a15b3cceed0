"""compose.yaml and the Kubernetes example, checked statically: the shape of each document,
and every reference (commands, options, settings, volumes, secrets, ports, probes) resolves."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
import yaml

from pagemill.settings import Settings
from tests.unit.deploy.support import (
    DEFAULT_PORT,
    ROOT,
    SETTINGS_VARIABLES,
    api_paths,
    check_command_line,
)

KUBERNETES = ROOT / "deploy" / "kubernetes"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return document


def _pagemill_services(compose: dict[str, Any]) -> dict[str, Any]:
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("image", "").startswith("pagemill")
    }


def test_compose_runs_the_scale_out_shape(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "api", "worker", "reaper"} <= set(services)
    commands = {
        name: check_command_line(service["command"])
        for name, service in _pagemill_services(compose).items()
    }
    assert commands == {
        "migrate": ("migrate",),
        "api": ("serve",),
        "worker": ("worker",),
        "reaper": ("reaper",),
    }
    assert services["api"]["command"][-2:] == ["--workers", "0"]  # workers do the steps
    assert services["api"]["deploy"]["replicas"] >= 2
    assert services["worker"]["deploy"]["replicas"] >= 2


def test_compose_names_only_real_settings_and_shares_the_ledger(compose: dict[str, Any]) -> None:
    for name, service in _pagemill_services(compose).items():
        environment = service["environment"]
        assert set(environment) <= SETTINGS_VARIABLES, name
        assert environment["PAGEMILL_DATABASE_URL"].startswith("postgresql://"), name
        assert "@postgres:5432/" in environment["PAGEMILL_DATABASE_URL"], name
        assert environment["PAGEMILL_LIVE_URL"].startswith("redis://redis:6379/"), name
        assert "PAGEMILL_URL_SIGNING_SECRET" in environment, name  # one key for all replicas


def test_compose_shares_one_blob_volume_between_api_and_workers(compose: dict[str, Any]) -> None:
    for name in ("api", "worker"):
        service = compose["services"][name]
        mounts = dict(volume.split(":", 1) for volume in service["volumes"])
        assert mounts["blobs"] == service["environment"]["PAGEMILL_BLOB_DIR"], name
    declared = set(compose["volumes"])
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            assert volume.split(":", 1)[0] in declared


def test_compose_starts_everything_after_the_migration(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
    for name in ("api", "worker", "reaper"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_proxies_to_the_api_on_its_port(compose: dict[str, Any]) -> None:
    config = compose["configs"]["nginx"]["content"]
    assert f"server api:{DEFAULT_PORT};" in config
    assert "proxy_request_buffering off" in config  # uploads stream to pagemill
    body_cap = re.search(r"client_max_body_size (\d+)m;", config)
    assert body_cap is not None  # at least pagemill's own cap: pagemill answers the 413
    assert int(body_cap[1]) * 1024 * 1024 >= Settings.model_fields["max_upload_bytes"].default
    assert compose["services"]["proxy"]["ports"] == [f"127.0.0.1:{DEFAULT_PORT}:8000"]


# -- Kubernetes ------------------------------------------------------------------------------

_CONTAINERS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["name", "image", "args"],
        "properties": {"args": {"type": "array", "items": {"type": "string"}}},
    },
}
_POD_TEMPLATE = {
    "type": "object",
    "required": ["metadata", "spec"],
    "properties": {
        "metadata": {"type": "object", "required": ["labels"]},
        "spec": {
            "type": "object",
            "required": ["containers", "securityContext"],
            "properties": {
                "containers": _CONTAINERS,
                "securityContext": {
                    "type": "object",
                    "required": ["runAsNonRoot", "runAsUser"],
                    "properties": {
                        "runAsNonRoot": {"const": True},
                        "runAsUser": {"type": "integer", "minimum": 1},
                    },
                },
            },
        },
    },
}


def _kind(api_version: str, spec: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", *extra.get("required", [])],
        "properties": {
            "apiVersion": {"const": api_version},
            "metadata": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"}},
            },
        },
    }
    if spec is not None:
        schema["required"].append("spec")
        schema["properties"]["spec"] = spec
    schema["properties"].update(extra.get("properties", {}))
    return schema


SCHEMAS = {
    "Deployment": _kind(
        "apps/v1",
        {
            "type": "object",
            "required": ["replicas", "selector", "template"],
            "properties": {
                "selector": {"type": "object", "required": ["matchLabels"]},
                "template": _POD_TEMPLATE,
            },
        },
    ),
    "Job": _kind(
        "batch/v1",
        {
            "type": "object",
            "required": ["template"],
            "properties": {
                "template": {
                    "allOf": [
                        _POD_TEMPLATE,
                        {
                            "properties": {
                                "spec": {
                                    "required": ["restartPolicy"],
                                    "properties": {
                                        "restartPolicy": {"enum": ["Never", "OnFailure"]}
                                    },
                                }
                            }
                        },
                    ]
                }
            },
        },
    ),
    "Service": _kind(
        "v1",
        {
            "type": "object",
            "required": ["selector", "ports"],
            "properties": {
                "ports": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "object", "required": ["port", "targetPort"]},
                }
            },
        },
    ),
    "PersistentVolumeClaim": _kind(
        "v1",
        {
            "type": "object",
            "required": ["accessModes", "resources"],
            "properties": {
                "accessModes": {"type": "array", "contains": {"const": "ReadWriteMany"}},
                "resources": {
                    "type": "object",
                    "required": ["requests"],
                    "properties": {"requests": {"type": "object", "required": ["storage"]}},
                },
            },
        },
    ),
    "ConfigMap": _kind("v1", required=["data"]),
    "Secret": _kind("v1", required=["stringData"]),
}


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    listed = kustomization["resources"]
    on_disk = sorted(p.name for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk, "kustomization.yaml must list every manifest"
    return [
        document
        for name in listed
        for document in yaml.safe_load_all((KUBERNETES / name).read_text())
        if document
    ]


def _named(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def _pod_specs(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        m["metadata"]["name"]: m["spec"]["template"]["spec"]
        for m in manifests
        if m["kind"] in ("Deployment", "Job")
    }


def test_every_manifest_has_the_fields_its_kind_requires(manifests: list[dict[str, Any]]) -> None:
    kinds = {m["kind"] for m in manifests}
    assert kinds == set(SCHEMAS)
    for manifest in manifests:
        jsonschema.validate(manifest, SCHEMAS[manifest["kind"]])


def test_kubernetes_pods_run_real_commands(manifests: list[dict[str, Any]]) -> None:
    commands = {
        name: check_command_line(spec["containers"][0]["args"])
        for name, spec in _pod_specs(manifests).items()
    }
    assert commands == {
        "pagemill-migrate": ("migrate",),
        "pagemill-api": ("serve",),
        "pagemill-worker": ("worker",),
    }


def test_kubernetes_settings_are_real_and_every_reference_resolves(
    manifests: list[dict[str, Any]],
) -> None:
    config_maps, secrets = _named(manifests, "ConfigMap"), _named(manifests, "Secret")
    claims = _named(manifests, "PersistentVolumeClaim")
    for config_map in config_maps.values():
        assert set(config_map["data"]) <= SETTINGS_VARIABLES
    for secret in secrets.values():
        assert set(secret["stringData"]) <= SETTINGS_VARIABLES
        assert "PAGEMILL_DATABASE_URL" in secret["stringData"]
    for name, spec in _pod_specs(manifests).items():
        for source in spec["containers"][0]["envFrom"]:
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] in config_maps, name
            if "secretRef" in source:
                assert source["secretRef"]["name"] in secrets, name
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        for mount in spec["containers"][0]["volumeMounts"]:
            assert mount["name"] in volumes, name
        for volume in volumes.values():
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, name


def test_kubernetes_blobs_are_shared_where_the_settings_say(
    manifests: list[dict[str, Any]],
) -> None:
    (config_map,) = _named(manifests, "ConfigMap").values()
    blob_dir = config_map["data"]["PAGEMILL_BLOB_DIR"]
    for name in ("pagemill-api", "pagemill-worker"):
        spec = _pod_specs(manifests)[name]
        claims = {v["name"] for v in spec["volumes"] if "persistentVolumeClaim" in v}
        mounts = {m["mountPath"]: m["name"] for m in spec["containers"][0]["volumeMounts"]}
        assert mounts[blob_dir] in claims, name


def test_the_api_service_reaches_the_api_pods_and_their_probes_exist(
    manifests: list[dict[str, Any]],
) -> None:
    (service,) = _named(manifests, "Service").values()
    api = _named(manifests, "Deployment")["pagemill-api"]
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert api["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    container = api["spec"]["template"]["spec"]["containers"][0]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports[service["spec"]["ports"][0]["targetPort"]] == DEFAULT_PORT
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] in api_paths()
    worker = _named(manifests, "Deployment")["pagemill-worker"]
    assert worker["spec"]["selector"]["matchLabels"].items() <= (
        worker["spec"]["template"]["metadata"]["labels"].items()
    )
