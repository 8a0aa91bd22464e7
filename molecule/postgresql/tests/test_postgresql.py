"""The database a Kea peer gets from dhcpops.kea.kea_postgresql: one
behaviour per test, each one that would fail if the feature broke."""

SERVICE = "postgresql@15-main"


def test_postgresql_runs_and_starts_at_boot(pg):
    service = pg.service(SERVICE)
    assert service.is_running
    assert service.is_enabled


def test_the_kea_peer_logs_in_and_reads_the_schema_kea_admin_made(kea, psql):
    out = psql(kea, "SELECT version || '.' || minor FROM schema_version")
    assert out.rc == 0, out.stderr
    # Kea 2.2.0 (Debian 12) creates schema 13.0.
    assert out.stdout.strip().startswith("13."), out.stdout


def test_the_kea_user_can_write_a_lease(kea, psql):
    # 10.89.57.250 as Kea stores it (a 32-bit integer); state 0 = default.
    address = (10 << 24) + (89 << 16) + (57 << 8) + 250
    insert = ("INSERT INTO lease4 (address, hwaddr, valid_lifetime, expire, subnet_id, fqdn_fwd, fqdn_rev, "
              "hostname, state) VALUES (%d, '\\x0a0b0c0d0e0f', 3600, now() + interval '1 hour', 1, false, false, "
              "'molecule', 0)" % address)
    try:
        out = psql(kea, insert)
        assert out.rc == 0, out.stderr
        count = psql(kea, "SELECT count(*) FROM lease4 WHERE address = %d" % address)
        assert count.stdout.strip() == "1"
    finally:
        psql(kea, "DELETE FROM lease4 WHERE address = %d" % address)


def test_a_wrong_password_is_refused(kea, psql):
    out = psql(kea, "SELECT 1", password="not-the-password")
    assert out.rc != 0
    assert "password authentication failed" in out.stderr


def test_an_address_that_is_not_a_kea_peer_is_refused(pg, psql, lab):
    # pg connecting to its own network address: source lab.pg_ip, which
    # pg_hba.conf does not admit, whatever the password.
    out = psql(pg, "SELECT 1")
    assert out.rc != 0
    assert 'no pg_hba.conf entry for host "%s"' % lab["pg_ip"] in out.stderr, out.stderr


def test_pg_hba_admits_only_the_peer_remotely(pg, lab):
    rules = pg.check_output(
        "su postgres -c \"psql -XtA -c \\\"SELECT type, array_to_string(database, ','), "
        "array_to_string(user_name, ','), coalesce(address, ''), auth_method FROM pg_hba_file_rules "
        "WHERE type <> 'local' AND address NOT IN ('127.0.0.1', '::1')\\\"\"")
    assert rules.splitlines() == ["host|%s|%s|%s|scram-sha-256" % (lab["db"], lab["user"], lab["kea_ip"])]


def test_the_password_is_stored_as_scram(pg, lab):
    stored = pg.check_output(
        "su postgres -c \"psql -XtA -c \\\"SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = '%s'\\\"\""
        % lab["user"])
    assert stored == "SCRAM-SHA-256$"


def test_durability_is_on_and_the_tuning_is_live(kea, psql, pg):
    assert pg.file("/etc/postgresql/15/main/conf.d/kea.conf").contains("^synchronous_commit = 'on'")
    settings = {}
    for name in ("synchronous_commit", "fsync", "full_page_writes", "wal_compression", "shared_buffers",
                 "password_encryption", "listen_addresses", "timezone"):
        out = psql(kea, "SHOW %s" % name)
        assert out.rc == 0, out.stderr
        settings[name] = out.stdout.strip()
    assert settings["synchronous_commit"] == "on"
    assert settings["fsync"] == "on"
    assert settings["full_page_writes"] == "on"
    assert settings["wal_compression"] in ("on", "pglz")
    # The scenario's override of the role's 256MB.
    assert settings["shared_buffers"] == "128MB"
    assert settings["password_encryption"] == "scram-sha-256"
    assert settings["listen_addresses"] == "localhost,10.89.57.2"
    assert settings["timezone"] == "UTC"


def test_other_roles_may_not_connect_to_the_kea_database(pg, lab):
    acl = pg.check_output(
        "su postgres -c \"psql -XtA -c \\\"SELECT has_database_privilege('public', '%s', 'CONNECT')\\\"\""
        % lab["db"])
    assert acl == "f"
