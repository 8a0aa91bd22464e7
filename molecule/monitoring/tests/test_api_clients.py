"""Own Kea API credentials for the exporter and the Stork agent
(kea_dhcp4_api_extra_clients), checked on the running Kea 2.2 control agent.

side_effect.yml retired the client lab-retired before these tests run:
the inventory lists it, the last run took it off the list.

Passwords are compared by SHA-256 and sent from the files the role wrote,
so a failing assertion prints no password.
"""

import hashlib
import json

from conftest import api_status, authorized_users, journal_cursor

CA_UNIT = "kea-ctrl-agent"
CA_CONFIG = "/etc/kea/kea-ctrl-agent.conf"
EXPORTER_PORT = "9547"
AGENT_EXPORTER_PORT = "9548"


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def client_file(user):
    return "/etc/kea/kea-api-client-%s.password" % user


def test_password_files_of_the_extra_clients(kea, lab):
    for user, password in (("stork-agent", lab["lab_stork_kea_password"]),
                           ("kea-exporter", lab["lab_exporter_kea_password"])):
        f = kea.file(client_file(user))
        assert f.user == "root" and f.group == "_kea" and f.mode == 0o640, user
        # The whole file is the password: no trailing newline.
        assert hashlib.sha256(f.content).hexdigest() == sha256(password), user


def test_control_agent_lists_the_clients_main_first(kea):
    auth = json.loads(kea.file(CA_CONFIG).content_string)["Control-agent"]["authentication"]
    assert auth["clients"] == [
        {"user": "kea-api", "password-file": "kea-api-password"},
        {"user": "stork-agent", "password-file": "kea-api-client-stork-agent.password"},
        {"user": "kea-exporter", "password-file": "kea-api-client-kea-exporter.password"},
    ]
    assert auth["directory"] == "/etc/kea"
    # No secret in the configuration itself.
    assert all("password" not in client for client in auth["clients"])


def test_right_password_admitted_wrong_one_refused(kea):
    for user in ("stork-agent", "kea-exporter"):
        assert api_status(kea, user, password_file=client_file(user)) == 200, user
        assert api_status(kea, user, password="not-the-password-of-" + user) == 401, user
    # One client's password does not open another's account.
    assert api_status(kea, "stork-agent", password_file=client_file("kea-exporter")) == 401


def test_retired_client_refused_and_its_file_gone(kea, lab):
    assert not kea.file(client_file("lab-retired")).exists
    assert "lab-retired" not in kea.file(CA_CONFIG).content_string
    assert api_status(kea, "lab-retired", password=lab["lab_retired_kea_password"]) == 401
    # The others kept working through the change.
    assert api_status(kea, "kea-exporter", password_file=client_file("kea-exporter")) == 200


def test_exporter_reaches_kea_as_its_own_user(kea, client, lab):
    env = kea.file("/etc/kea-exporter/kea-exporter.env")
    assert env.contains("^TARGETS=http://kea-exporter:")
    cursor = journal_cursor(kea, CA_UNIT)
    # kea_exporter_interval is 0: every scrape queries Kea.
    client.check_output("busybox wget -q -O /dev/null http://%s:%s/metrics", lab["lab_kea_ip"], EXPORTER_PORT)
    users = authorized_users(kea, CA_UNIT, cursor)
    assert users and set(users) == {"kea-exporter"}, users


def test_stork_agent_reaches_kea_as_its_own_user(kea, client, lab, standin):
    cursor = journal_cursor(kea, CA_UNIT)
    # The stand-in queries Kea, with the credentials it picked from Kea's
    # configuration as the real agent does, on every scrape of its exporter.
    metrics = client.check_output(
        "busybox wget -q -O - http://%s:%s/metrics", lab["lab_kea_ip"], AGENT_EXPORTER_PORT)
    assert 'stork_agent_standin_kea_api_status{user="stork-agent"} 200' in metrics, metrics
    users = authorized_users(kea, CA_UNIT, cursor)
    assert users and set(users) == {"stork-agent"}, users
    record = json.loads(kea.file("/var/lib/stork-agent/standin/kea-api.json").content_string)
    assert record["config"] == CA_CONFIG
    assert record["clients"] == ["kea-api", "stork-agent", "kea-exporter"]
    assert record["user"] == "stork-agent"
    assert record["password_sha256"] == sha256(lab["lab_stork_kea_password"])
    assert record["http_status"] == 200 and record["result"] == 0


def test_admin_password_not_in_the_monitoring_tools_files(kea, lab):
    admin = lab["kea_dhcp4_api_password"]
    found = kea.run("grep -rlF -- %s /etc/kea-exporter /etc/stork /var/lib/stork-agent "
                    "/etc/systemd/system/kea-exporter.service", admin)
    assert found.rc == 1, "the admin password is in %s" % found.stdout
    # Nor their own passwords in each other's files.
    found = kea.run("grep -rlF -- %s /etc/kea-exporter", lab["lab_stork_kea_password"])
    assert found.rc == 1, found.stdout
    found = kea.run("grep -rlF -- %s /etc/stork /var/lib/stork-agent", lab["lab_exporter_kea_password"])
    assert found.rc == 1, found.stdout
