"""The management API: authenticated, on loopback, served by the daemon
that fits the Kea version."""


# The addresses that listen on a TCP port (IPv4 and IPv6), from /proc.
LISTENING_ADDRESSES = r"""
import sys
port = int(sys.argv[1])
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    with open(table) as rows:
        for row in list(rows)[1:]:
            fields = row.split()
            address, hexport = fields[1].split(":")
            if fields[3] == "0A" and int(hexport, 16) == port:
                print(address)
"""


def test_api_listens_on_loopback_only(kea, lab):
    addresses = kea.check_output("python3 -c %s %s", LISTENING_ADDRESSES, str(lab.port)).split()
    # 0100007F: 127.0.0.1 as the kernel prints it.
    assert addresses == ["0100007F"]


def test_api_served_by_the_right_daemon(api, kea, lab):
    # Asked without a service, the listener itself answers status-get with
    # its pid: the control agent before Kea 3.0, kea-dhcp4 from 3.0 on.
    daemon = "kea-ctrl-agent" if lab.uses_ctrl_agent else "kea-dhcp4"
    status, answer = api("status-get", service=None)
    assert status == 200
    assert answer["result"] == 0, answer
    assert str(answer["arguments"]["pid"]) == kea.check_output("pidof %s", daemon)


def test_status_get_with_credentials(api):
    status, answer = api("status-get")
    assert status == 200
    assert answer["result"] == 0, answer


def test_config_get_with_credentials(api, lab):
    status, answer = api("config-get")
    assert status == 200
    assert answer["result"] == 0, answer
    subnets = answer["arguments"]["Dhcp4"]["subnet4"]
    assert [s["id"] for s in subnets] == [1, 2]
    assert subnets[0]["subnet"] == lab.router.rsplit(".", 1)[0] + ".0/24"
    # From kea_dhcp4_reservations_files (molecule/default/files/reservations.yml).
    assert {"hw-address": "02:00:5e:10:00:01", "ip-address": "198.51.100.5", "hostname": "lab-printer"}.items() \
        <= subnets[1]["reservations"][0].items()


def test_api_refuses_missing_credentials(api):
    status, _answer = api("status-get", user=None)
    assert status == 401


def test_api_refuses_wrong_password(api, lab):
    status, _answer = api("status-get", password=lab.password + "-wrong")
    assert status == 401


def test_api_refuses_unknown_user(api, lab):
    status, _answer = api("status-get", user="admin")
    assert status == 401
