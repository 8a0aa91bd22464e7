"""Fixtures for the default scenario: one Kea server per Debian release and
one client container attached to every server's network.

Tests reach the containers with testinfra's podman backend (``podman exec``)
rather than through Ansible, which would cost a second per command. Every
test that takes the ``server`` fixture runs once per Kea server; when it
fails, the report carries that server's Kea journal.
"""

import json
import os
import sys

import pytest
import testinfra
from testinfra.utils.ansible_runner import AnsibleRunner

# The lab's perfdhcp report parser, shared with the benchmarks.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts", "lab"))
from perfdhcp import perfdhcp_stats  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# The Kea unit names of Debian's packages (the scenario installs those).
KEA_UNITS = ("kea-dhcp4-server", "kea-ctrl-agent")

# Runs inside a Kea container: one API call, printed as JSON. Basic auth is
# added only when a user is given, so tests can also call without it.
API_CALL = r"""
import base64, json, sys, urllib.error, urllib.request
spec = json.loads(sys.argv[1])
body = {"command": spec["command"]}
if spec.get("service"):
    body["service"] = spec["service"]
if spec.get("arguments") is not None:
    body["arguments"] = spec["arguments"]
req = urllib.request.Request(spec["url"], data=json.dumps(body).encode(),
                             headers={"Content-Type": "application/json"})
if spec.get("user") is not None:
    token = base64.b64encode(("%s:%s" % (spec["user"], spec["password"])).encode()).decode()
    req.add_header("Authorization", "Basic " + token)
try:
    with urllib.request.urlopen(req, timeout=10) as resp:
        status, raw = resp.status, resp.read()
except urllib.error.HTTPError as exc:
    status, raw = exc.code, exc.read()
try:
    answer = json.loads(raw)
except ValueError:
    answer = raw.decode(errors="replace")
print(json.dumps({"status": status, "answer": answer}))
"""


def _inventory():
    path = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not path:
        pytest.exit("MOLECULE_INVENTORY_FILE is not set: run the tests through `molecule verify`")
    return AnsibleRunner(path)


def pytest_generate_tests(metafunc):
    if "server" in metafunc.fixturenames:
        servers = sorted(_inventory().get_hosts("kea_servers"))
        metafunc.parametrize("server", servers, ids=servers, scope="session")


@pytest.fixture(scope="session")
def inventory():
    return _inventory()


@pytest.fixture(scope="session")
def kea(server):
    return testinfra.get_host("podman://%s" % server)


@pytest.fixture(scope="session")
def client(inventory):
    return testinfra.get_host("podman://%s" % sorted(inventory.get_hosts("dhcp_clients"))[0])


class Lab:
    """What the tests need to know about one server's network."""

    def __init__(self, host_vars, kea_host, client_host):
        net = host_vars["lab_net"]
        self.server_ip = net + ".2"
        self.client_ip = net + ".10"
        self.router = net + ".1"
        self.dns = [net + ".53", net + ".54"]
        self.pool = [net + ".%d" % last for last in range(100, 200)]
        self.relay_prefix = "198.51.100."
        self.user = host_vars.get("kea_dhcp4_api_user", "kea-api")
        self.password = host_vars["kea_dhcp4_api_password"]
        self.port = int(host_vars.get("kea_dhcp4_api_port", 8000))
        self.url = "http://127.0.0.1:%d/" % self.port
        self.version = tuple(int(x) for x in kea_host.check_output("kea-dhcp4 -v").split(".")[:3])
        # Before 3.0 the control agent serves the API and routes by service.
        self.uses_ctrl_agent = self.version < (3, 0, 0)
        # The client's interface on this server's network (podman orders
        # a multi-homed container's interfaces as it likes).
        self.client_iface = client_host.check_output(
            "ip -o -4 addr show | awk '$4 ~ /^%s\\// {print $2}'" % self.client_ip.replace(".", "\\."))
        assert self.client_iface, "the client has no address %s" % self.client_ip


@pytest.fixture(scope="session")
def lab(server, inventory, kea, client):
    return Lab(inventory.get_variables(server), kea, client)


@pytest.fixture(scope="session")
def api(kea, lab):
    """api(command, arguments=None, user=..., password=..., service=...) -> (HTTP status, first answer).

    Credentials default to the inventory's; service defaults to dhcp4 when
    a control agent routes the call.
    """

    default_service = ("dhcp4",) if lab.uses_ctrl_agent else None

    def call(command, arguments=None, user=lab.user, password=lab.password, service=default_service):
        service = list(service) if service is not None else None
        spec = dict(url=lab.url, command=command, arguments=arguments, user=user, password=password,
                    service=service)
        out = json.loads(kea.check_output("python3 -c %s %s", API_CALL, json.dumps(spec)))
        answer = out["answer"]
        if isinstance(answer, list):
            answer = answer[0]
        return out["status"], answer

    return call


_LEASES = {}


@pytest.fixture
def client_lease(server, client, lab):
    """A real DHCP client's lease on the server's network, obtained once per server.

    busybox udhcpc leaves the interface alone: its script only prints the
    lease (see prepare.yml). -n: fail rather than retry forever.
    """
    if server not in _LEASES:
        out = client.run("busybox udhcpc -i %s -n -q -f -t 5 -T 2 -s /usr/local/bin/udhcpc-report",
                         lab.client_iface)
        assert out.rc == 0, "udhcpc got no lease on %s:\n%s%s" % (lab.client_iface, out.stdout, out.stderr)
        lease = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        lease["mac"] = client.check_output("cat /sys/class/net/%s/address", lab.client_iface).strip()
        _LEASES[server] = lease
    return _LEASES[server]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    server = getattr(item, "callspec", None) and item.callspec.params.get("server")
    if report.when == "call" and report.failed and server:
        host = testinfra.get_host("podman://%s" % server)
        units = " ".join("-u %s" % unit for unit in KEA_UNITS)
        journal = host.run("journalctl " + units + " -n 60 --no-pager -o short-precise")
        report.sections.append(("Kea journal on %s" % server, journal.stdout + journal.stderr))
