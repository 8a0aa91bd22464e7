"""kea-exporter as the role leaves it, and its metrics under real DHCP traffic."""

import hashlib
import random
import re
import time


PORT = "9547"
VERSION = "0.7.1"


def scrape(client, lab):
    # From the client container: what a Prometheus elsewhere on the network sees.
    return client.check_output("busybox wget -q -O - http://%s:%s/metrics", lab["lab_kea_ip"], PORT)


def metric(text, name, **labels):
    for line in text.splitlines():
        match = re.match(r"^%s\{(.*)\} (\S+)$" % re.escape(name), line)
        if match:
            found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
            if all(found.get(key) == value for key, value in labels.items()):
                return float(match.group(2))
    raise AssertionError("no %s%s in the scrape:\n%s" % (name, labels, text[:2000]))


def test_pinned_version_in_its_own_venv(kea):
    assert kea.check_output("/opt/kea-exporter/bin/kea-exporter --version").endswith(VERSION)
    venv = kea.file("/opt/kea-exporter")
    assert venv.user == "root"


def test_runs_as_its_own_system_user(kea):
    service = kea.service("kea-exporter")
    assert service.is_running and service.is_enabled
    user = kea.user("kea-exporter")
    assert user.uid < 1000
    assert user.shell == "/usr/sbin/nologin"
    assert kea.check_output("ps -o user= -C kea-exporter") == "kea-exporter"


def test_listens_on_the_management_address_only(kea, lab):
    assert kea.socket("tcp://%s:%s" % (lab["lab_kea_ip"], PORT)).is_listening
    assert not kea.socket("tcp://0.0.0.0:%s" % PORT).is_listening


def test_api_password_only_in_the_private_env_file(kea, lab):
    # The exporter's own client (test_api_clients.py checks that Kea sees it).
    password = lab["lab_exporter_kea_password"]
    env = kea.file("/etc/kea-exporter/kea-exporter.env")
    assert env.user == "root" and env.group == "kea-exporter" and env.mode == 0o640
    assert env.contains("TARGETS=http://kea-exporter:")
    assert hashlib.sha256(password.encode()).hexdigest() in [
        hashlib.sha256(target.rsplit("@", 1)[0].split(":")[-1].encode()).hexdigest()
        for target in env.content_string.split("TARGETS=", 1)[1].split()]
    # Not on any command line (readable by every user), not in the unit.
    assert password not in kea.check_output("ps -eo args")
    assert not kea.file("/etc/systemd/system/kea-exporter.service").contains(password)


def test_api_refuses_the_exporter_without_credentials(kea):
    # What the exporter would get without the credentials the role gave it.
    status = kea.check_output(
        "python3 -c \"import urllib.request as u, urllib.error as e\n"
        "r = u.Request('http://127.0.0.1:8000/', data=b'{\\\"command\\\": \\\"config-get\\\"}', "
        "headers={'Content-Type': 'application/json'})\n"
        "try:\n    print(u.urlopen(r).status)\nexcept e.HTTPError as x:\n    print(x.code)\"")
    assert status == "401"


def test_pool_size_of_the_configured_subnet(client, lab):
    text = scrape(client, lab)
    subnet = lab["lab_net"] + ".0/24"
    assert metric(text, "kea_dhcp4_addresses_total", subnet=subnet, subnet_id="1", pool="") == 100


def test_assigned_addresses_rise_by_the_leases_handed_out(kea, client, lab):
    subnet = lab["lab_net"] + ".0/24"
    before = metric(scrape(client, lab), "kea_dhcp4_addresses_assigned_total", subnet=subnet, subnet_id="1", pool="")

    # 20 exchanges at 10/s from 20 simulated clients whose MACs no earlier
    # run used: every lease they get is new.
    prefix = "02:%02x:%02x:%02x" % tuple(random.randrange(256) for dummy in range(3))
    iface = client.check_output(
        "ip -o -4 addr show | awk '$4 ~ /^%s\\// {print $2}'" % lab["lab_client_ip"].replace(".", "\\."))
    run = client.run("perfdhcp -4 -r 10 -n 20 -R 20 -b mac=%s -l %s", prefix + ":00:00", iface)
    assert run.rc in (0, 3), run.stdout + run.stderr  # 3: some packets dropped, still a result

    # The leases Kea actually handed to these clients, from its lease database.
    leases = kea.check_output(
        "awk -F, -v p=%s 'index($2, p) == 1 && $10 == 0 {print $1}' /var/lib/kea/kea-leases4.csv | sort -u",
        prefix)
    given = len(leases.split())
    assert given > 0, run.stdout

    after = before
    for dummy in range(10):  # kea_exporter_interval is 0: the next scrape is current
        after = metric(scrape(client, lab), "kea_dhcp4_addresses_assigned_total",
                       subnet=subnet, subnet_id="1", pool="")
        if after - before >= given:
            break
        time.sleep(1)
    assert after - before == given, (before, after, given, run.stdout)


def test_no_ha_state_from_this_exporter(client, lab):
    # kea-exporter 0.7.1 exports no HA metrics (docs/monitoring.md): if a
    # later version does, this test says so and the alerting docs change.
    assert "_ha_" not in scrape(client, lab)
