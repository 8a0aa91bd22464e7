"""Fixtures for the postgresql scenario: the database host "pg" and the Kea
peer "kea", reached with testinfra's podman backend (``podman exec``).

A failing test's report carries PostgreSQL's log from pg, so a red run says
why the server refused or failed.
"""

import os

import pytest
import testinfra
from testinfra.utils.ansible_runner import AnsibleRunner


def _inventory():
    path = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not path:
        pytest.exit("MOLECULE_INVENTORY_FILE is not set: run the tests through `molecule verify`")
    return AnsibleRunner(path)


@pytest.fixture(scope="session")
def lab():
    values = _inventory().get_variables("pg")
    return {
        "pg_ip": values["lab_pg_ip"],
        "kea_ip": values["lab_kea_ip"],
        "password": values["kea_postgresql_db_password"],
        "db": values.get("kea_postgresql_db_name", "kea"),
        "user": values.get("kea_postgresql_db_user", "kea"),
    }


@pytest.fixture(scope="session")
def pg():
    return testinfra.get_host("podman://pg")


@pytest.fixture(scope="session")
def kea():
    return testinfra.get_host("podman://kea")


@pytest.fixture(scope="session")
def psql(lab):
    """psql(host, sql, password=..., server=...) -> testinfra CommandResult.

    Runs psql on ``host`` (a testinfra host) as the Kea user over TCP, with
    the password in the environment, as Kea and kea-admin do.
    """

    def run(host, sql, password=lab["password"], server=lab["pg_ip"], user=lab["user"]):
        return host.run(
            "PGPASSWORD=%s PGCONNECT_TIMEOUT=5 psql -X -w -h %s -U %s -d %s -tA -v ON_ERROR_STOP=1 -c %s",
            password, server, user, lab["db"], sql)

    return run


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        host = testinfra.get_host("podman://pg")
        log = host.run("tail -n 40 /var/log/postgresql/postgresql-*-main.log")
        report.sections.append(("PostgreSQL log on pg", log.stdout + log.stderr))
