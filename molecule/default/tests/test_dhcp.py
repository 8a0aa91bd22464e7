"""Real DHCP traffic from the client container to each server."""

import ipaddress
import random

from conftest import perfdhcp_stats


def test_real_client_gets_lease_from_pool(client_lease, lab):
    assert client_lease["ip"] in lab.pool
    assert client_lease["serverid"] == lab.server_ip
    assert client_lease["router"] == lab.router
    assert client_lease["dns"].split() == lab.dns
    # valid-lifetime; less when Kea hands an earlier run's lease out again
    # (lease caching returns the remaining time).
    assert 0 < int(client_lease["lease"]) <= 3600


def test_client_lease_visible_through_api(client_lease, api):
    status, answer = api("lease4-get", {"ip-address": client_lease["ip"]})
    assert status == 200
    assert answer["result"] == 0, answer
    assert answer["arguments"]["hw-address"] == client_lease["mac"]
    assert answer["arguments"]["subnet-id"] == 1


def test_client_lease_in_memfile(client_lease, kea):
    rows = kea.check_output("grep -F %s /var/lib/kea/kea-leases4.csv", client_lease["ip"] + ",")
    assert client_lease["mac"] in rows


def test_perfdhcp_100_per_second_without_drops(client, lab):
    # 1000 four-way exchanges from 50 simulated clients on the server's
    # network; -R keeps them inside the 100-address pool.
    run = client.run("perfdhcp -4 -r 100 -p 10 -R 50 -l %s", lab.client_iface)
    assert run.rc == 0, run.stdout + run.stderr
    stats = perfdhcp_stats(run.stdout)
    assert set(stats) == {"DISCOVER-OFFER", "REQUEST-ACK"}, run.stdout
    for exchange, numbers in stats.items():
        assert numbers["sent packets"] >= 900, (exchange, numbers)
        assert numbers["drops"] == 0, (exchange, run.stdout)
        assert numbers["received packets"] == numbers["sent packets"], (exchange, numbers)


def test_relayed_clients_get_leases_from_the_relay_subnet(client, api, lab):
    # MACs no earlier run used: their leases can only come from this run
    # (a renewal of an old lease within Kea's cache threshold would keep
    # its old timestamps and prove nothing).
    prefix = "02:%02x:%02x:%02x" % tuple(random.randrange(256) for dummy in range(3))
    # Unicast to the server: perfdhcp acts as a relay whose address (the
    # client's, lab.client_ip) selects subnet 2, which Kea has no interface in.
    run = client.run("perfdhcp -4 -r 50 -p 5 -R 20 -b mac=%s %s", prefix + ":00:00", lab.server_ip)
    assert run.rc == 0, run.stdout + run.stderr
    stats = perfdhcp_stats(run.stdout)
    assert stats["REQUEST-ACK"]["received packets"] > 0, run.stdout
    assert stats["REQUEST-ACK"]["drops"] == 0, run.stdout

    status, answer = api("lease4-get-all")
    assert status == 200
    assert answer["result"] == 0, answer
    ours = [lease for lease in answer["arguments"]["leases"] if lease["hw-address"].startswith(prefix)]
    assert ours, "no lease for the relayed clients %s:* in %s" % (prefix, answer["arguments"]["leases"][:3])
    relay_net = ipaddress.ip_network("198.51.100.0/24")
    for lease in ours:
        assert lease["subnet-id"] == 2, lease
        assert ipaddress.ip_address(lease["ip-address"]) in relay_net, lease
