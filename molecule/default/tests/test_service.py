"""The installed service: running, enabled, restarted on failure, its files
validated and protected."""

import pytest


def test_kea_dhcp4_running_and_enabled(kea):
    service = kea.service("kea-dhcp4-server")
    assert service.is_running
    assert service.is_enabled


def test_control_agent_only_before_kea_3(kea, lab):
    agent = kea.service("kea-ctrl-agent")
    if lab.uses_ctrl_agent:
        assert agent.is_running and agent.is_enabled
    else:
        # Kea 3.0 deprecated the agent: kea-dhcp4 serves the API itself.
        assert not kea.package("kea-ctrl-agent").is_installed


@pytest.mark.parametrize("unit", ["kea-dhcp4-server", "kea-ctrl-agent"])
def test_units_restart_on_failure(kea, lab, unit):
    if unit == "kea-ctrl-agent" and not lab.uses_ctrl_agent:
        pytest.skip("no control agent from Kea 3.0 on")
    assert kea.check_output("systemctl show --property=Restart --value %s", unit) == "on-failure"
    assert kea.check_output("systemctl show --property=RestartUSec --value %s", unit) == "5s"


def test_live_config_passes_kea_check(kea):
    # As the Kea user, the way the daemon reads it.
    check = kea.run("runuser -u _kea -- kea-dhcp4 -t /etc/kea/kea-dhcp4.conf")
    assert check.rc == 0, check.stderr or check.stdout


def test_control_agent_config_passes_kea_check(kea, lab):
    if not lab.uses_ctrl_agent:
        pytest.skip("no control agent from Kea 3.0 on")
    check = kea.run("runuser -u _kea -- kea-ctrl-agent -t /etc/kea/kea-ctrl-agent.conf")
    assert check.rc == 0, check.stderr or check.stdout


@pytest.mark.parametrize("path", ["/etc/kea/kea-dhcp4.conf", "/etc/kea/kea-api-password",
                                  "/etc/kea/kea-ctrl-agent.conf"])
def test_files_are_0640_root_kea(kea, lab, path):
    if path.endswith("kea-ctrl-agent.conf") and not lab.uses_ctrl_agent:
        pytest.skip("no control agent from Kea 3.0 on")
    f = kea.file(path)
    assert f.is_file
    assert f.mode == 0o640
    assert f.user == "root"
    assert f.group == "_kea"


def test_no_candidate_left_behind(kea):
    # Candidates are staged in /etc/kea (AppArmor) and must never linger there.
    leftovers = kea.check_output("find /etc/kea -maxdepth 1 -name '*candidate*'")
    assert leftovers == ""


def test_configs_hold_no_password(kea, lab):
    # The password lives in its own 0640 file; configs only name that file.
    files = "/etc/kea/kea-dhcp4.conf" + (" /etc/kea/kea-ctrl-agent.conf" if lab.uses_ctrl_agent else "")
    assert kea.run("grep -F -q -- %s " + files, lab.password).rc == 1
