"""Reservations as code (dhcpops.kea.reservations) and through the API (dhcpops.kea.kea_reservation).

Runs after test_ha.py (file order) on the same pair. The playbook chooses
the path itself: on Kea 3.0.4 (ha-forky, host_cmds and the PostgreSQL hosts
database) the API, once for the pair, no reload; on Kea 2.2.0 (ha, no
host_cmds) kea-dhcp4.conf and the rolling reload. The tests assert that the
path taken is the one the server's commands allow, and that a real DHCP
client sees the same thing either way:
  - the reservation added by the playbook is what the client gets, from the
    primary and, with the primary stopped, from the standby;
  - running the playbook again changes nothing;
  - a conflicting reservation is refused, naming both sides, and nothing
    changes;
  - a deletion is planned in check mode (the plan names the reservation,
    nothing changes); then applied: on the api path here, on the config
    path by test_rolling.py's rollout under load, whose data set has no
    reservations file (one rolling reload fewer in CI), where the client
    gets a pool address again.
"""

import ipaddress
import json
import os
import re
import sys
import subprocess

import pytest

from conftest import CONFIG_FILE, RESERVED_LAST, ROOT_DIR, client_lease, figure, recap, run_playbook

OTHER_MAC = "02:a6:00:00:00:02"


def commands(lab):
    status, answer = lab.api(lab.peers[0], "list-commands")
    assert status == 200 and answer["result"] == 0, answer
    return set(answer["arguments"])


@pytest.fixture(scope="module")
def path(lab):
    """The path the server's commands allow: api with host_cmds, config without."""
    return "api" if "reservation-add" in commands(lab) else "config"


@pytest.fixture(scope="module")
def client_mac(lab, hosts):
    return hosts[lab.client].check_output("cat /sys/class/net/eth0/address").strip()


@pytest.fixture(scope="module")
def reserved(lab):
    return "%s.%d" % (lab.net, RESERVED_LAST)


def write_files(tmp_path, name, reservations):
    """A reservations file and the extra vars that point kea_dhcp4_reservations_files at it."""
    data = tmp_path / ("%s.json" % name)
    data.write_text(json.dumps({"subnets": [{"id": 1, "reservations": reservations}]}))
    extra = tmp_path / ("%s-vars.json" % name)
    extra.write_text(json.dumps({"kea_dhcp4_reservations_files": [str(data)]}))
    return str(extra)


def sync(lab, tmp_path, name, reservations, *args):
    # No DHCP load runs here: a rolled peer need not wait the default 20 s
    # for packets that cannot come (test_rolling.py covers that wait).
    return run_playbook(lab, "dhcpops.kea.reservations", [write_files(tmp_path, name, reservations)],
                        "-e", "rolling_reload_traffic_wait=2", *args)


def checksums(lab, hosts):
    return dict((p, hosts[p].check_output("sha256sum %s" % CONFIG_FILE).split()[0]) for p in lab.peers)


def db_hosts(sql):
    return sql("SELECT encode(dhcp_identifier, 'hex'), ipv4_address, dhcp4_subnet_id FROM hosts ORDER BY 1")


def test_the_playbook_adds_a_reservation_by_its_path(lab, hosts, tmp_path, path, client_mac, reserved):
    before = checksums(lab, hosts)
    rc, seconds, out = sync(lab, tmp_path, "add", [
        {"hw-address": client_mac.upper().replace(":", "-"), "ip-address": reserved, "hostname": "lab-client"}])
    assert rc == 0, out[-4000:]
    figure("reservations %s path, add one: playbook seconds" % path, round(seconds, 1))
    assert "path %s - " % path in out
    after = checksums(lab, hosts)
    if path == "api":
        # No reload: the files stay out of kea-dhcp4.conf.
        assert after == before
        assert re.search(r"[\"']+added[\"']+: 1\b", out), out[-3000:]
    else:
        assert all(after[p] != before[p] for p in lab.peers)
        assert reserved in hosts[lab.peers[0]].file(CONFIG_FILE).content_string


def test_the_client_gets_the_reserved_address_from_either_peer(lab, hosts, path, reserved):
    ip, server = client_lease(hosts, lab)
    assert ip == reserved
    primary = [p for p in lab.peers if lab.role(p) == "primary"][0]
    standby = [p for p in lab.peers if p != primary][0]
    hosts[primary].check_output("systemctl stop kea-dhcp4-server")
    try:
        seconds, states = lab.wait_states({standby: "partner-down"}, 30)
        assert seconds is not None, states
        ip2, server2 = client_lease(hosts, lab)
        assert ip2 == reserved
        assert server2 != server, "the second lease came from the same server %s" % server
        figure("reservations %s path: lease from the standby" % path, "%s from %s" % (ip2, server2))
    finally:
        hosts[primary].check_output("systemctl start kea-dhcp4-server")
    seconds, states = lab.wait_states(dict((p, lab.normal_state) for p in lab.peers), 120)
    assert seconds is not None, "the pair did not return to its normal state: %s" % states


def test_running_the_playbook_again_changes_nothing(lab, hosts, tmp_path, path, client_mac, reserved):
    before = checksums(lab, hosts)
    rc, seconds, out = sync(lab, tmp_path, "again", [
        # The MAC spelled differently (colons, lower case) is the same host on both paths.
        {"hw-address": client_mac, "ip-address": reserved, "hostname": "lab-client"}])
    assert rc == 0, out[-4000:]
    figure("reservations %s path, no-change run: playbook seconds" % path, round(seconds, 1))
    assert all(v.get("changed") == 0 for v in recap(out).values()), recap(out)
    assert checksums(lab, hosts) == before
    if path == "api":
        assert "0 writes" in out


def test_a_conflicting_reservation_is_refused_and_changes_nothing(lab, hosts, sql, tmp_path, path, client_mac,
                                                                  reserved):
    before = checksums(lab, hosts)
    rows = db_hosts(sql)
    rc, dummy, out = sync(lab, tmp_path, "conflict", [
        {"hw-address": client_mac, "ip-address": reserved},
        {"hw-address": OTHER_MAC, "ip-address": reserved}])
    assert rc != 0
    # Both sides are named: the address and the two reservations holding it.
    assert reserved in out
    assert "reservation 1" in out and "reservation 0" in out or OTHER_MAC in out, out[-4000:]
    assert checksums(lab, hosts) == before
    assert db_hosts(sql) == rows


def run_module(lab, peer, args, check=False):
    """dhcpops.kea.kea_reservation as a provisioning tool calls it (ad hoc, on one peer); (rc, result)."""
    values = lab.vars[peer]
    # The API listens on the peer's lab address (kea_dhcp4_api_address).
    api_url = "http://%s:%d/" % (values["lab_ip"], int(values.get("kea_dhcp4_api_port", 8000)))
    module_args = dict(api_url=api_url, api_user=values.get("kea_dhcp4_api_user", "kea-api"),
                       api_password_file="/etc/kea/kea-api-password", **args)
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible"), peer, "-i",
           os.environ["MOLECULE_INVENTORY_FILE"], "-m", "dhcpops.kea.kea_reservation", "-a",
           json.dumps(module_args), "--diff"] + (["--check"] if check else [])
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT_DIR, "ansible.cfg"), ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(cmd, cwd=ROOT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=300, check=False)
    for secret in (lab.db_password, values["kea_dhcp4_api_password"]):
        assert secret not in proc.stdout + proc.stderr
    document = json.loads(proc.stdout[proc.stdout.index("{"):])
    return proc.returncode, document["plays"][0]["tasks"][0]["hosts"][peer]


def test_one_reservation_through_the_api_module(lab, hosts, sql, tmp_path, path):
    primary = [p for p in lab.peers if lab.role(p) == "primary"][0]
    log = tmp_path / "audit.jsonl"
    address = "%s.%d" % (lab.net, RESERVED_LAST + 1)
    args = dict(subnet_id=1, hw_address=OTHER_MAC.upper(), ip_address=address, hostname="provisioned",
                audit_log=str(log))
    if path == "config":
        # Kea 2.2.0 has no host_cmds: a clear refusal that names the way out, and no change.
        before = checksums(lab, hosts)
        rc, result = run_module(lab, primary, args)
        assert rc != 0 and result.get("failed")
        assert "host_cmds" in result["msg"] and "dhcpops.kea.reservations" in result["msg"], result["msg"]
        assert checksums(lab, hosts) == before and not log.exists()
        return
    rc, result = run_module(lab, primary, args, check=True)
    assert rc == 0 and result["changed"] and result["operation"] == "added" and not log.exists()
    rc, result = run_module(lab, primary, args)
    assert rc == 0 and result["changed"] and result["operation"] == "added", result
    record = json.loads(log.read_text().splitlines()[-1])
    assert record["changes"][0]["after"]["ip-address"] == address
    assert record["actor"]["user"] and record["time"].endswith("Z") and record["target"] == primary
    # The pair shares the hosts database: the standby reads what the primary wrote.
    standby = [p for p in lab.peers if p != primary][0]
    status, answer = lab.api(standby, "reservation-get",
                             {"subnet-id": 1, "identifier-type": "hw-address", "identifier": OTHER_MAC})
    assert status == 200 and answer["result"] == 0 and answer["arguments"]["ip-address"] == address, answer
    rc, again = run_module(lab, primary, dict(args, hw_address=OTHER_MAC.replace(":", "")))
    assert rc == 0 and not again["changed"], again
    # Somebody else's address: refused with both sides named, nothing written.
    rows = db_hosts(sql)
    rc, refused = run_module(lab, primary, dict(args, hw_address="02:a6:00:00:00:03"))
    assert rc != 0 and address in refused["msg"], refused
    assert "02:a6:00:00:00:03" in refused["msg"] and OTHER_MAC in refused["msg"], refused["msg"]
    assert db_hosts(sql) == rows
    # Outside the subnet: refused.
    rc, refused = run_module(lab, primary, dict(args, ip_address="192.0.2.9"))
    assert rc != 0 and "outside subnet" in refused["msg"], refused
    rc, gone = run_module(lab, primary, dict(subnet_id=1, hw_address=OTHER_MAC, state="absent", audit_log=str(log)))
    assert rc == 0 and gone["changed"] and gone["operation"] == "deleted"
    assert len(log.read_text().splitlines()) == 2


def test_a_deletion_is_planned_in_check_mode_then_applied(lab, hosts, sql, tmp_path, path, reserved):
    before, rows = checksums(lab, hosts), db_hosts(sql)
    rc, dummy, out = sync(lab, tmp_path, "plan-delete", [], "--check")
    assert rc == 0, out[-4000:]
    assert "path %s - " % path in out
    # The plan names what goes: the reserved address, in the reservation
    # diff (api) or in the diff of kea-dhcp4.conf (config).
    assert reserved in out, out[-4000:]
    assert checksums(lab, hosts) == before and db_hosts(sql) == rows
    ip, dummy = client_lease(hosts, lab)
    assert ip == reserved, "check mode changed what the client gets"
    if path == "config":
        # Applied by test_rolling.py's rollout under load (see the docstring).
        return
    rc, seconds, out = sync(lab, tmp_path, "delete", [])
    assert rc == 0, out[-4000:]
    figure("reservations %s path, delete one: playbook seconds" % path, round(seconds, 1))
    ip, dummy = client_lease(hosts, lab)
    assert ip != reserved
    assert ipaddress.ip_address(ip) in lab.pool
