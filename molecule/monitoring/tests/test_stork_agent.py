"""The Stork agent as the role leaves it. With the stand-in package (the
default) every test runs; with DHCPOPS_STORK_REAL_REPO=1 the ones that read
the stand-in's records are skipped."""

import json
import os

import pytest

STANDIN_VERSION = "1.0.0~standin1"
KEYRING = "/etc/apt/keyrings/isc-stork.asc"
SOURCES = "/etc/apt/sources.list.d/dhcpops-isc-stork.sources"
PIN = "/etc/apt/preferences.d/dhcpops-isc-stork"
HOME = "/var/lib/stork-agent"
REGISTER_LOG = HOME + "/standin/register.log"


def test_repository_definition_trusts_only_its_own_key(kea, lab):
    sources = kea.file(SOURCES)
    assert sources.user == "root" and sources.mode == 0o644
    fields = dict(line.split(": ", 1) for line in sources.content_string.splitlines()
                  if ": " in line and not line.startswith("#"))
    assert fields == {
        "Types": "deb",
        "URIs": ("https://dl.cloudsmith.io/public/isc/stork/deb/debian" if lab["stork_real"]
                 else "file:///srv/stork-standin-repo"),
        "Suites": "bookworm",
        "Components": "main",
        "Signed-By": KEYRING,
    }
    assert kea.file(KEYRING).contains("BEGIN PGP PUBLIC KEY BLOCK")
    # Not in apt's global trust: only this repository is signed by it.
    assert not kea.file("/etc/apt/trusted.gpg.d/isc-stork.asc").exists


def test_package_installed_from_the_repository_and_pinned(kea, standin):
    pkg = kea.package("isc-stork-agent")
    assert pkg.is_installed
    assert pkg.version == STANDIN_VERSION
    policy = kea.check_output("apt-cache policy isc-stork-agent")
    assert "file:/srv/stork-standin-repo bookworm/main" in policy, policy
    assert kea.file(PIN).content_string.splitlines()[-3:] == [
        "Package: isc-stork-agent", "Pin: version " + STANDIN_VERSION, "Pin-Priority: 1001"]


def test_agent_user_joined_kea_group(kea):
    assert "_kea" in kea.user("stork-agent").groups


def test_running_agent_can_read_kea_config_and_api_password(kea, standin):
    # Recorded by the running agent process itself: its real credentials.
    run = json.loads(kea.file(HOME + "/standin/run.json").content_string)
    assert run["user"] == "stork-agent"
    assert "_kea" in run["groups"]
    assert run["kea_files_readable"] == {
        "/etc/kea/kea-dhcp4.conf": True,
        "/etc/kea/kea-ctrl-agent.conf": True,
        "/etc/kea/kea-api-password": True,
    }


def _registers(lab):
    # The opt-in real-repository run without a Stork server registers nowhere.
    return not lab["stork_real"] or bool(os.environ.get("DHCPOPS_STORK_SERVER_TOKEN"))


def test_agent_env(kea, lab):
    env = kea.file("/etc/stork/agent.env")
    assert env.user == "root" and env.group == "root" and env.mode == 0o644
    values = dict(line.split("=", 1) for line in env.content_string.splitlines()
                  if "=" in line and not line.startswith("#"))
    assert values == {
        "STORK_AGENT_HOST": lab["lab_kea_ip"],
        "STORK_AGENT_PORT": "8080",
        "STORK_AGENT_SERVER_URL": lab["lab_stork_server_url"],
        "STORK_AGENT_LISTEN_PROMETHEUS_ONLY": "false" if _registers(lab) else "true",
        "STORK_AGENT_LISTEN_STORK_ONLY": "false",
        "STORK_AGENT_PROMETHEUS_KEA_EXPORTER_ADDRESS": lab["lab_kea_ip"],
        "STORK_AGENT_PROMETHEUS_KEA_EXPORTER_PORT": "9548",
        "STORK_AGENT_PROMETHEUS_KEA_EXPORTER_INTERVAL": "10",
        "STORK_AGENT_PROMETHEUS_KEA_EXPORTER_PER_SUBNET_STATS": "true",
        "STORK_AGENT_SKIP_TLS_CERT_VERIFICATION": "false",
    }


def test_unit_runs_as_stork_agent_on_the_management_address(kea, lab):
    service = kea.service("isc-stork-agent")
    assert service.is_running
    assert service.is_enabled
    assert kea.check_output("systemctl show -P User isc-stork-agent") == "stork-agent"
    if _registers(lab):
        assert kea.socket("tcp://%s:8080" % lab["lab_kea_ip"]).is_listening
    assert kea.socket("tcp://%s:9548" % lab["lab_kea_ip"]).is_listening
    assert not kea.socket("tcp://0.0.0.0:8080").is_listening


def test_registrations_exact_invocation(kea, lab, standin, token_sha256):
    calls = [json.loads(line) for line in kea.file(REGISTER_LOG).content_string.splitlines()]
    # converge; side_effect's new server URL; side_effect's restore.
    # Idempotence and check mode registered nothing.
    assert [call["server_url"] for call in calls] == [
        lab["lab_stork_server_url"], "http://10.91.30.98:8080", lab["lab_stork_server_url"]]
    for call in calls:
        assert call["argv"] == ["--server-url", call["server_url"], "--agent-host", lab["lab_kea_ip"],
                                "--agent-port", "8080", "--non-interactive"]
        assert call["user"] == "stork-agent"
        # The token came through the environment (not argv), and it was the right one.
        assert call["token_source"] == "env"
        assert call["token_sha256"] == token_sha256
        # Registered with the agent stopped.
        assert call["agent_running"] is False
        assert call["result"] == "registered"


def test_registration_files_private_to_the_agent(kea, standin):
    for path in ("certs/key.pem", "certs/cert.pem", "certs/ca.pem", "tokens/agent-token.txt"):
        f = kea.file("%s/%s" % (HOME, path))
        assert f.user == "stork-agent" and f.mode == 0o600, path
    for path in ("certs", "tokens"):
        d = kea.file("%s/%s" % (HOME, path))
        assert d.user == "stork-agent" and d.mode == 0o700, path


def test_registration_marker_holds_the_current_settings(kea, lab):
    if not _registers(lab):
        pytest.skip("no Stork server given: the agent registers nowhere")
    marker = json.loads(kea.file(HOME + "/dhcpops-registration.json").content_string)
    assert marker == {"server_url": lab["lab_stork_server_url"], "agent_host": lab["lab_kea_ip"],
                      "agent_port": 8080, "method": "server_token"}


def test_server_token_written_nowhere(kea, lab):
    token = lab["stork_agent_server_token"]
    found = kea.run("grep -rlF -- %s /etc /var/lib/stork-agent /var/log /root /tmp", token)
    assert found.rc == 1, "the server token is in %s" % found.stdout
    journal = kea.run("journalctl --no-pager -o cat | grep -cF -- %s", token)
    assert journal.stdout.strip() == "0"


def test_reinstall_from_package_file_kept_the_same_package(kea, standin):
    # side_effect switched to the package file and back: still one install.
    assert kea.package("isc-stork-agent").version == STANDIN_VERSION
    assert kea.file(SOURCES).exists
