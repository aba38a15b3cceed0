"""The Dockerfile and the systemd units, checked without a container engine or systemd: they
run real commands with real options and name only settings that exist."""

from __future__ import annotations

import shlex
import tomllib

import pytest

from tests.unit.deploy.support import (
    DEFAULT_PORT,
    ROOT,
    SETTINGS_VARIABLES,
    api_paths,
    check_command_line,
    dockerfile_instructions,
    env_file_variables,
    exec_form,
    systemd_unit,
)

DOCKERFILE = dockerfile_instructions(ROOT / "Dockerfile")
SYSTEMD = ROOT / "deploy" / "systemd"


def _final_stage() -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(DOCKERFILE) if keyword == "FROM")
    return DOCKERFILE[last_from:]


def _values(keyword: str) -> list[str]:
    return [rest for k, rest in _final_stage() if k == keyword]


def _environment() -> dict[str, str]:
    pairs = {}
    for rest in _values("ENV"):
        for item in shlex.split(rest):
            name, _, value = item.partition("=")
            pairs[name] = value
    return pairs


def test_the_image_builds_in_stages_and_runs_as_a_non_root_user() -> None:
    stages = [rest for keyword, rest in DOCKERFILE if keyword == "FROM"]
    assert len(stages) >= 2
    assert any("--from=build" in rest for keyword, rest in _final_stage() if keyword == "COPY")
    users = _values("USER")
    assert users and users[-1] not in ("root", "0")


def test_the_image_runs_pagemill_serve_by_default() -> None:
    assert exec_form(_values("ENTRYPOINT")[-1]) == ["pagemill"]
    assert check_command_line(exec_form(_values("CMD")[-1])) == ("serve",)


def test_the_image_listens_on_the_default_port_and_checks_healthz() -> None:
    environment = _environment()
    assert _values("EXPOSE") == [str(DEFAULT_PORT)]
    assert environment["PAGEMILL_PORT"] == str(DEFAULT_PORT)
    assert environment["PAGEMILL_HOST"] == "0.0.0.0"  # noqa: S104 (a container listens on all)
    healthcheck = _values("HEALTHCHECK")[-1]
    assert "/healthz" in healthcheck and "/healthz" in api_paths()


def test_the_image_keeps_its_data_in_a_volume_and_names_only_real_settings() -> None:
    environment = _environment()
    assert {name for name in environment if name.startswith("PAGEMILL_")} <= SETTINGS_VARIABLES
    volumes = exec_form(_values("VOLUME")[-1])
    assert environment["PAGEMILL_DATA_DIR"] in volumes
    assert _values("WORKDIR")[-1] == environment["PAGEMILL_DATA_DIR"]


def test_the_image_installs_the_scale_out_extras_and_libreoffice() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    installs = " ".join(rest for keyword, rest in DOCKERFILE if keyword == "RUN")
    assert '".[postgres,redis]"' in installs and {"postgres", "redis"} <= set(extras)
    assert "libreoffice-writer" in installs


def test_what_the_image_copies_exists_and_passes_the_dockerignore() -> None:
    allowed = {
        line.removeprefix("!").rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    for keyword, rest in DOCKERFILE:
        if keyword == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                assert (ROOT / source).exists(), source
                assert source.rstrip("/") in allowed, f"{source} is excluded by .dockerignore"


@pytest.mark.parametrize("unit", ["pagemill.service", "pagemill-worker@.service"])
def test_a_systemd_unit_runs_real_commands_as_the_service_user(unit: str) -> None:
    sections = systemd_unit(SYSTEMD / unit)
    service = dict(sections["Service"])
    assert service["User"] == "pagemill"
    assert sections["Install"] == [("WantedBy", "multi-user.target")]
    commands = [v for k, v in sections["Service"] if k in ("ExecStartPre", "ExecStart")]
    assert commands
    for line in commands:
        program, *args = shlex.split(line.replace("%i", "convert"))
        assert program == "/opt/pagemill/bin/pagemill"
        check_command_line(args)
    environment_file = service["EnvironmentFile"]
    assert environment_file == "/etc/pagemill/pagemill.env"


def test_the_systemd_environment_file_names_only_real_settings() -> None:
    variables = env_file_variables(SYSTEMD / "pagemill.env")
    assert set(variables) <= SETTINGS_VARIABLES
    assert variables["PAGEMILL_PORT"] == str(DEFAULT_PORT)
