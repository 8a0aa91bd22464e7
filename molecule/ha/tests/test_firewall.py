"""The API firewall (kea_dhcp4_firewall_enabled) on the HA pair.

The scenario admits the podman gateway (the verifier on the host, as a
management host) and the partner to each peer's API port; the client
container stands for any other machine on the network. A refusal must come
from the role's reject rule, not from a missing listener: the rule's counter
has to grow with the client's attempts, and the host and the partner must get
through to the very same port.
"""

import re
import time

TABLE = "inet dhcpops_kea"
UNIT = "dhcpops-kea-api-firewall.service"

# One TCP connection attempt from inside a container: "connected", "refused"
# (a TCP reset), "timeout" (dropped) or "error:<errno>", and the seconds it took.
CONNECT = """
import socket, sys, time
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.settimeout(5)
start = time.time()
try:
    sock.connect((sys.argv[1], int(sys.argv[2])))
    outcome = "connected"
except ConnectionRefusedError:
    outcome = "refused"
except socket.timeout:
    outcome = "timeout"
except OSError as exc:
    outcome = "error:%s" % exc.errno
finally:
    sock.close()
print(outcome, round(time.time() - start, 3))
"""


def api_port(lab, peer):
    return int(lab.vars[peer].get("kea_dhcp4_api_port", 8000))


def connect(host, address, port):
    """(outcome, seconds) of one connection attempt made from `host`."""
    out = host.check_output("python3 -c %s %s %s", CONNECT, address, str(port))
    outcome, seconds = out.split()
    return outcome, float(seconds)


def ruleset(host):
    return host.check_output("nft list table %s" % TABLE)


def rejected(host, port):
    """Packets the reject rule of `port` has counted so far."""
    match = re.search(r"tcp dport %d counter packets (\d+) bytes \d+ reject with tcp reset" % port, ruleset(host))
    assert match, "no counting reject rule for port %d in:\n%s" % (port, ruleset(host))
    return int(match.group(1))


def test_the_table_is_loaded_on_both_peers(lab, hosts):
    for peer in lab.peers:
        host = hosts[peer]
        # Enabled: loaded again at every boot, before the network is up.
        assert host.service(UNIT).is_enabled
        rules = ruleset(host)
        partner = [p for p in lab.peers if p != peer][0]
        for admitted in (lab.vars[peer]["lab_net"] + ".1", lab.vars[partner]["lab_ip"]):
            assert re.search(r"elements = \{[^}]*\b%s\b" % re.escape(admitted), rules), \
                "%s not admitted on %s:\n%s" % (admitted, peer, rules)
        assert lab.vars[peer]["lab_client_ip"] not in rules


def test_only_the_api_port_is_filtered(lab, hosts):
    # Every rule of the chain is the loopback rule or names the API port:
    # DHCP, PostgreSQL replies and anything else pass the table untouched.
    for peer in lab.peers:
        chain = hosts[peer].check_output("nft list chain %s input" % TABLE)
        rules = [line.strip() for line in chain.splitlines()
                 if line.strip() and not line.strip().startswith(("table", "chain", "type", "}"))]
        port = api_port(lab, peer)
        assert rules[0] == 'iif "lo" accept', chain
        assert all(("tcp dport %d " % port) in rule for rule in rules[1:]), chain
        assert "policy accept" in chain


def test_the_client_is_refused_by_the_rule(lab, hosts):
    client = hosts[lab.client]
    for peer in lab.peers:
        port = api_port(lab, peer)
        before = rejected(hosts[peer], port)
        outcome, seconds = connect(client, lab.vars[peer]["lab_ip"], port)
        after = rejected(hosts[peer], port)
        # A reset, at once: clients fail fast instead of waiting for a timeout.
        assert outcome == "refused", "client reached %s:%d (%s)" % (peer, port, outcome)
        assert seconds < 1.0
        assert after > before, "the refusal on %s did not come from the firewall's reject rule" % peer


def test_the_management_host_gets_the_api(lab, hosts):
    for peer in lab.peers:
        port = api_port(lab, peer)
        before = rejected(hosts[peer], port)
        status, answer = lab.api(peer, "status-get")
        assert status == 200 and answer["result"] == 0, (status, answer)
        # Still authenticated: the firewall is a second fence, not the first.
        status, dummy = lab.api(peer, "status-get", auth=False)
        assert status == 401
        assert rejected(hosts[peer], port) == before


def test_the_partners_reach_each_other(lab, hosts):
    for peer in lab.peers:
        partner = [p for p in lab.peers if p != peer][0]
        port = api_port(lab, partner)
        before = rejected(hosts[partner], port)
        outcome, dummy = connect(hosts[peer], lab.vars[partner]["lab_ip"], port)
        assert outcome == "connected", "%s cannot reach %s's API (%s)" % (peer, partner, outcome)
        assert rejected(hosts[partner], port) == before
    # And Kea's own heartbeats go through: the pair is in its normal state.
    seconds, states = lab.wait_states(dict((p, lab.normal_state) for p in lab.peers), 60)
    assert seconds is not None, "pair not in %s with the firewall on: %s" % (lab.normal_state, states)


def test_a_flushed_ruleset_comes_back_with_nftables_service(lab, hosts):
    # Debian's nftables.service starts with "flush ruleset": the drop-in
    # loads the table again right after, in the same job.
    # nftables.service stays active afterwards with Debian's own
    # /etc/nftables.conf (empty chains that accept everything).
    peer = lab.peers[-1]
    host = hosts[peer]
    host.check_output("systemctl restart nftables.service")
    deadline = time.time() + 10
    while not (host.run("nft list table %s" % TABLE).rc == 0 and host.service(UNIT).is_running):
        assert time.time() < deadline, "after restarting nftables.service: %s is %s, ruleset:\n%s" % (
            UNIT, host.run("systemctl is-active %s" % UNIT).stdout.strip(), host.run("nft list ruleset").stdout)
        time.sleep(0.5)
    outcome, dummy = connect(hosts[lab.client], lab.vars[peer]["lab_ip"], api_port(lab, peer))
    assert outcome == "refused"
