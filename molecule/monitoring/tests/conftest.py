"""Fixtures for the monitoring scenario: one Kea server running the Stork
agent (by default the stand-in package of tests/stork-agent-standin) and
kea-exporter, and one DHCP client on the same network.

Tests reach the containers with testinfra's podman backend. When a test
fails, the report carries the journals of Kea, the agent and the exporter.
"""

import hashlib
import json
import os
import re
import shlex
import time

import pytest
import testinfra
from testinfra.utils.ansible_runner import AnsibleRunner

UNITS = ("kea-dhcp4-server", "kea-ctrl-agent", "isc-stork-agent", "kea-exporter")


def _inventory():
    path = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not path:
        pytest.exit("MOLECULE_INVENTORY_FILE is not set: run the tests through `molecule verify`")
    return AnsibleRunner(path)


@pytest.fixture(scope="session")
def inventory():
    return _inventory()


@pytest.fixture(scope="session")
def kea_name(inventory):
    return sorted(inventory.get_hosts("kea_servers"))[0]


@pytest.fixture(scope="session")
def kea(kea_name):
    return testinfra.get_host("podman://%s" % kea_name)


@pytest.fixture(scope="session")
def client(inventory):
    return testinfra.get_host("podman://%s" % sorted(inventory.get_hosts("dhcp_clients"))[0])


@pytest.fixture(scope="session")
def lab(inventory, kea_name):
    values = inventory.get_variables(kea_name)
    values["stork_real"] = str(values.get("lab_stork_real", "0")) in ("1", "true", "yes")
    return values


@pytest.fixture(scope="session")
def standin(lab):
    """Only for tests of what the stand-in records; skipped with ISC's real agent."""
    if lab["stork_real"]:
        pytest.skip("ISC's real stork-agent: the stand-in's records do not exist")
    return True


@pytest.fixture(scope="session")
def token_sha256(lab):
    return hashlib.sha256(lab["stork_agent_server_token"].encode()).hexdigest()


def read_json_lines(host, path):
    return [json.loads(line) for line in host.file(path).content_string.splitlines() if line.strip()]


# Sends version-get to Kea's API (the control agent on Kea 2.2) as user U
# with the password in the file PF or in P, and prints the HTTP status. The
# password travels in the environment, and with PF not even through the test.
_API_STATUS = r"""
import base64, os, urllib.error, urllib.request
user = os.environ["U"]
password = open(os.environ["PF"]).read() if os.environ.get("PF") else os.environ["P"]
request = urllib.request.Request(
    "http://127.0.0.1:8000/", data=b'{"command": "version-get", "service": ["dhcp4"]}',
    headers={"Content-Type": "application/json",
             "Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()})
try:
    print(urllib.request.urlopen(request, timeout=10).status)
except urllib.error.HTTPError as ex:
    print(ex.code)
"""


def api_status(host, user, password=None, password_file=None):
    """HTTP status of Kea's API for these credentials."""
    env = {"U": user, "PF": password_file} if password_file else {"U": user, "P": password}
    assignments = " ".join("%s=%s" % (key, shlex.quote(value)) for key, value in env.items())
    return int(host.check_output("%s python3 -c %s" % (assignments, shlex.quote(_API_STATUS))))


def journal_cursor(host, unit):
    """The cursor of the unit's newest journal entry (to read only what follows)."""
    out = host.check_output("journalctl -u %s -n 1 --show-cursor --no-pager -o cat" % unit)
    return out.rsplit("-- cursor: ", 1)[1].strip()


def authorized_users(host, unit, cursor, wait=10):
    """User names in Kea's HTTP_CLIENT_REQUEST_AUTHORIZED lines after the cursor."""
    users = []
    for dummy in range(wait):
        text = host.check_output(
            "journalctl -u %s --after-cursor %s --no-pager -o cat" % (unit, shlex.quote(cursor)))
        users = re.findall(r"HTTP_CLIENT_REQUEST_AUTHORIZED received HTTP request authorized for '([^']*)'", text)
        if users:
            break
        time.sleep(1)
    return users


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        name = sorted(_inventory().get_hosts("kea_servers"))[0]
        host = testinfra.get_host("podman://%s" % name)
        units = " ".join("-u %s" % unit for unit in UNITS)
        journal = host.run("journalctl " + units + " -n 80 --no-pager -o short-precise")
        report.sections.append(("journal on %s" % name, journal.stdout + journal.stderr))
