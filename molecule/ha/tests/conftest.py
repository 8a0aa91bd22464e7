"""Fixtures for the ha scenario: two Kea peers sharing PostgreSQL, a client.

Commands inside the containers go through testinfra's podman backend; the
Kea API and PostgreSQL are reached from the host over the lab network, as a
monitoring system or an operator would reach them.
"""

import base64
import ipaddress
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

import pytest
import testinfra
from testinfra.utils.ansible_runner import AnsibleRunner

# The lab's perfdhcp report parser, shared with the benchmarks.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts", "lab"))
from perfdhcp import perfdhcp_stats  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

CONFIG_FILE = "/etc/kea/kea-dhcp4.conf"

# The unit names of Debian's packages (the scenario installs those).
KEA_UNITS = ("kea-dhcp4-server", "kea-ctrl-agent")

# One line per DHCPACK: "... lease 10.89.58.101 has been allocated for 3600
# seconds", or, for a renewal that Kea >= 2.4 answers from its lease cache
# (cache-threshold, on by default in 3.0), DHCP4_LEASE_REUSE "... has been
# reused for 2700 seconds" instead.
LEASE_ALLOC = re.compile(r"^(\d+\.\d+) .*DHCP4_LEASE_(?:ALLOC|REUSE) \[hwtype=\d+ ([0-9a-f:]+)\].*"
                         r"lease (\d+\.\d+\.\d+\.\d+) has been (?:allocated|reused)")


def _inventory():
    path = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not path:
        pytest.exit("MOLECULE_INVENTORY_FILE is not set: run the tests through `molecule verify`")
    return AnsibleRunner(path)


class Lab:
    def __init__(self, inventory):
        self.peers = sorted(inventory.get_hosts("kea_ha_pair"))
        self.vars = dict((peer, inventory.get_variables(peer)) for peer in self.peers)
        first = self.vars[self.peers[0]]
        self.mode = first.get("kea_dhcp4_ha_mode", "hot-standby")
        self.pg_ip = first["lab_pg_ip"]
        self.db_password = first["kea_postgresql_db_password"]
        self.client = sorted(inventory.get_hosts("dhcp_clients"))[0]
        self.pg = sorted(inventory.get_hosts("kea_databases"))[0]
        self.net = first["lab_net"]
        self.pool = [ipaddress.ip_address("%s.%d" % (first["lab_net"], last)) for last in range(100, 251)]

    def role(self, peer):
        return self.vars[peer]["kea_dhcp4_ha_role"]

    def api(self, peer, command, arguments=None, auth=True, timeout=5, password=None):
        """(HTTP status, first answer) of one API call to a peer's control agent."""
        values = self.vars[peer]
        url = "http://%s:%d/" % (values["lab_ip"], int(values.get("kea_dhcp4_api_port", 8000)))
        body = {"command": command, "service": ["dhcp4"]}
        if arguments is not None:
            body["arguments"] = arguments
        req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        if auth:
            token = "%s:%s" % (values.get("kea_dhcp4_api_user", "kea-api"),
                               values["kea_dhcp4_api_password"] if password is None else password)
            req.add_header("Authorization", "Basic " + base64.b64encode(token.encode()).decode())
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except OSError:
            return -1, None
        answer = json.loads(raw) if raw else None
        return status, answer[0] if isinstance(answer, list) else answer

    def ha_state(self, peer):
        """This peer's own HA state as ha-heartbeat reports it, or None."""
        status, answer = self.api(peer, "ha-heartbeat")
        if status != 200 or not answer or answer.get("result") != 0:
            return None
        return answer["arguments"]["state"]

    def wait_states(self, wanted, timeout):
        """Wait until every peer is in wanted[peer]; returns (seconds, states)."""
        start = time.time()
        states = {}
        while True:
            states = dict((peer, self.ha_state(peer)) for peer in wanted)
            if all(states[p] in (w if isinstance(w, (list, tuple, set)) else [w]) for p, w in wanted.items()):
                return time.time() - start, states
            if time.time() - start > timeout:
                return None, states
            time.sleep(0.25)

    @property
    def normal_state(self):
        return {"hot-standby": "hot-standby", "load-balancing": "load-balancing",
                "passive-backup": "passive-backup"}[self.mode]


@pytest.fixture(scope="session")
def lab():
    return Lab(_inventory())


@pytest.fixture(scope="session")
def hosts(lab):
    names = lab.peers + [lab.client, lab.pg]
    return dict((name, testinfra.get_host("podman://%s" % name)) for name in names)


@pytest.fixture(scope="session")
def sql(lab):
    """sql(query, args) -> rows, as the Kea user over the lab network."""
    psycopg2 = pytest.importorskip("psycopg2")

    def run(query, args=()):
        conn = psycopg2.connect(host=lab.pg_ip, dbname="kea", user="kea", password=lab.db_password,
                                connect_timeout=5)
        try:
            with conn.cursor() as cur:
                cur.execute(query, args)
                return cur.fetchall()
        finally:
            conn.close()

    return run


def lease_allocs(hosts, peers, since):
    """[(unix time, peer, mac, address)] of every DHCPACK logged since `since`, both peers, in time order."""
    out = []
    for peer in peers:
        text = hosts[peer].check_output(
            "journalctl -u kea-dhcp4-server -o short-unix --no-pager --since @%d"
            " | grep -E 'DHCP4_LEASE_(ALLOC|REUSE)' || true" % int(since))
        for line in text.splitlines():
            match = LEASE_ALLOC.match(line)
            if match and float(match.group(1)) >= since:
                out.append((float(match.group(1)), peer, match.group(2), match.group(3)))
    return sorted(out)


def longest_gap(times, start, end):
    """Longest stretch in [start, end] without any DHCPACK, and where it began."""
    points = [start] + [t for t in times if start <= t <= end] + [end]
    best, at = 0.0, start
    for before, after in zip(points, points[1:]):
        if after - before > best:
            best, at = after - before, before
    return best, at


# The real DHCP client of the lab: busybox udhcpc on the client's eth0,
# reporting what it got through a script of the lab image.
UDHCPC = "busybox udhcpc -i eth0 -n -q -f -t 6 -T 2 -s /usr/local/bin/udhcpc-report"
# The address test_reservations.py reserves for the client: outside the
# pool (.100-.250), inside the subnet. test_rolling.py checks that its
# rollout removed it on the config path.
RESERVED_LAST = 20


def client_lease(hosts, lab):
    """(address, server id) of a real DHCP exchange from the client container."""
    out = hosts[lab.client].run(UDHCPC)
    assert out.rc == 0, out.stdout + out.stderr
    values = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    return values["ip"], values.get("serverid")


def figure(name, value):
    """Print a measured figure in one greppable form (docs/benchmarks.md takes them from here)."""
    print("HA-FIGURE %s: %s" % (name, value))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        lab = Lab(_inventory())
        for peer in lab.peers:
            host = testinfra.get_host("podman://%s" % peer)
            units = " ".join("-u %s" % unit for unit in KEA_UNITS)
            journal = host.run("journalctl " + units + " -n 40 --no-pager -o short-precise")
            report.sections.append(("Kea journal on %s" % peer, journal.stdout + journal.stderr))


SCENARIO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT_DIR = os.path.dirname(os.path.dirname(SCENARIO_DIR))


def run_playbook(lab, playbook, extra_vars_files=(), *args, **kwargs):
    """Run a playbook as a user does (-vvv --diff, the scenario's data set); (rc, seconds, output).

    Every output is kept in the temporary directory for the report and
    searched for the lab's secrets.
    """
    import subprocess
    import sys
    import tempfile
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
           "-i", os.environ["MOLECULE_INVENTORY_FILE"], "-vvv", "--diff",
           "-e", "@" + os.path.join(SCENARIO_DIR, "vars", "kea.yml")]
    for path in extra_vars_files:
        cmd += ["-e", "@%s" % path]
    cmd += list(args) + [playbook]
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT_DIR, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", **kwargs.get("env", {}))
    start = time.time()
    proc = subprocess.run(cmd, cwd=ROOT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=1800, check=False)
    seconds = time.time() - start
    name = playbook.rsplit(".", 1)[-1]
    with open(os.path.join(tempfile.gettempdir(), "dhcpops-%s-%d.log" % (name, int(start))), "w") as log:
        log.write(proc.stdout)
    secrets = set([lab.db_password] + [lab.vars[p]["kea_dhcp4_api_password"] for p in lab.peers])
    for secret in secrets:
        assert secret not in proc.stdout, "a password appears in the output of %s" % playbook
    return proc.returncode, seconds, proc.stdout


def recap(output):
    """{host: {ok, changed, failed, ...}} from a playbook's PLAY RECAP."""
    out = {}
    for line in output.split("PLAY RECAP", 1)[-1].splitlines():
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line.strip())
        if match:
            out[match.group(1)] = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2)))
    return out
