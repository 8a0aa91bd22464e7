"""Draw docs/images/architecture.png: the parts of a dhcpops.kea site and how they talk.

One HA pair is drawn; a site has any number of them, each an inventory group,
sharing the controller and the monitoring. docs/architecture.md explains the
picture.

Usage (needs matplotlib, which is not in requirements*.txt):

    .venv/bin/python scripts/docs/architecture.py [--output PATH]

The same matplotlib version gives the same file: no timestamp or software
version is written into the PNG.
"""

from __future__ import annotations

import argparse
import os
import sys

# No pyplot: a Figure with the Agg canvas needs no display and no backend choice.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

WIDTH, HEIGHT = 160, 100

# One colour per kind of traffic, used for the lines and the labels.
INK = '#1f2933'
MUTED = '#52606d'
MANAGEMENT = '#616e7c'
HA = '#c05621'
DHCP = '#2b6cb0'
SQL = '#2f855a'
MONITORING = '#6b46c1'
CHANGE = '#9b2c2c'

FILL_CONTROL = '#f0f4f8'
FILL_PEER = '#fffaf0'
FILL_PART = '#ffffff'
FILL_DB = '#f0fff4'
FILL_MONITORING = '#faf5ff'
FILL_DHCP = '#ebf8ff'


def box(ax, x, y, w, h, title, body='', fill=FILL_PART, edge=INK, title_size=10.5, body_size=8.5, lw=1.2):
    """A rounded box with a bold title and a smaller body, both centred."""
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle='round,pad=0.3,rounding_size=1.2',
                                linewidth=lw, edgecolor=edge, facecolor=fill))
    if body:
        ax.text(x + w / 2, y + h - 1.6, title, ha='center', va='top', fontsize=title_size, fontweight='bold',
                color=INK)
        ax.text(x + w / 2, y + h - 5.0, body, ha='center', va='top', fontsize=body_size, color=MUTED,
                linespacing=1.35)
    else:
        ax.text(x + w / 2, y + h / 2, title, ha='center', va='center', fontsize=title_size, fontweight='bold',
                color=INK)


def arrow(ax, start, end, color, both=False, lw=1.8, style='-|>', rad=0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=('<|-|>' if both else style), mutation_scale=14,
                                 linewidth=lw, color=color, shrinkA=0, shrinkB=0,
                                 connectionstyle='arc3,rad=%s' % rad))


def label(ax, x, y, text, color, size=8.5, ha='center', va='center', weight='normal'):
    ax.text(x, y, text, ha=ha, va=va, fontsize=size, color=color, fontweight=weight, linespacing=1.3,
            bbox=dict(boxstyle='round,pad=0.2', facecolor='white', edgecolor='none', alpha=0.9))


def peer(ax, x, name, role):
    """A Kea server: its daemons, bottom (DHCP side) to top (management side)."""
    w = 48
    ax.add_patch(FancyBboxPatch((x, 31), w, 36, boxstyle='round,pad=0.4,rounding_size=1.6',
                                linewidth=1.6, edgecolor=INK, facecolor=FILL_PEER))
    ax.text(x + w / 2, 65.6, '%s  -  %s' % (name, role), ha='center', va='top', fontsize=12, fontweight='bold',
            color=INK)
    box(ax, x + 2, 54, 21, 7.5, 'Stork agent', ':8080 for the Stork server', fill=FILL_MONITORING,
        edge=MONITORING, title_size=9, body_size=7.5)
    box(ax, x + 25, 54, 21, 7.5, 'kea-exporter', ':9547 stats, :9550 HA state', fill=FILL_MONITORING,
        edge=MONITORING, title_size=9, body_size=7.5)
    box(ax, x + 2, 43.5, 44, 8.5, 'Kea API  (basic auth, :8000)',
        'kea-ctrl-agent before Kea 3.0, kea-dhcp4\'s own HTTP socket from 3.0;\noptional nftables filter',
        edge=HA, title_size=9, body_size=7.5)
    box(ax, x + 2, 32.5, 44, 8.5, 'kea-dhcp4',
        'serves DHCPv4 on UDP 67; kea-dhcp4.conf only through\ndhcp4_config (lint, kea-dhcp4 -t, atomic swap)',
        edge=DHCP, title_size=9, body_size=7.5)


def draw(path):
    fig = Figure(figsize=(16, 10), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, WIDTH)
    ax.set_ylim(0, HEIGHT)
    ax.axis('off')

    # --- Change path: Git -> CI -> controller -----------------------------
    box(ax, 2, 81, 30, 15, 'Git repository',
        'inventory, group_vars,\nreservations.yaml;\nevery change is a pull request', fill=FILL_CONTROL)
    box(ax, 38, 81, 30, 15, 'CI on the pull request',
        'dhcpops.kea.validate:\nlint + kea-dhcp4 -t in a container\nof each host\'s Kea release;\nno server touched',
        fill=FILL_CONTROL)
    box(ax, 74, 81, 34, 15, 'Ansible controller / AWX',
        'dhcpops.kea.site (install, configure)\ndhcpops.kea.rolling_reload\n(one peer of each pair at a time)',
        fill=FILL_CONTROL)
    arrow(ax, (32.6, 88.5), (37.4, 88.5), CHANGE)
    arrow(ax, (68.6, 88.5), (73.4, 88.5), CHANGE)
    label(ax, 35, 92.5, 'PR', CHANGE, size=8, weight='bold')
    label(ax, 71, 92.5, 'merge', CHANGE, size=8, weight='bold')

    # --- Monitoring servers -------------------------------------------------
    box(ax, 114, 81, 20, 15, 'Stork server', 'HA state, leases,\nconfiguration views', fill=FILL_MONITORING,
        edge=MONITORING)
    box(ax, 138, 81, 20, 15, 'Prometheus', 'pool utilisation and\nHA alerts', fill=FILL_MONITORING,
        edge=MONITORING)

    # --- Management network (bus) ----------------------------------------
    bus_y = 74
    ax.plot([8, 152], [bus_y, bus_y], color=MANAGEMENT, linewidth=3, solid_capstyle='round')
    label(ax, 10, bus_y + 2.2, 'management network', MANAGEMENT, size=8.5, ha='left', weight='bold')
    # Controller: SSH to every host (the database host too).
    arrow(ax, (91, 80.6), (91, bus_y + 0.4), MANAGEMENT)
    label(ax, 97.5, 77.2, 'SSH to every host', MANAGEMENT, size=7.5)
    # Monitoring servers reach the agents and exporters.
    arrow(ax, (124, 80.6), (124, bus_y + 0.4), MONITORING, both=True)
    label(ax, 119, 77.2, 'gRPC :8080', MONITORING, size=7.5)
    arrow(ax, (148, 80.6), (148, bus_y + 0.4), MONITORING)
    label(ax, 141.5, 77.2, 'scrape :9547, :9550', MONITORING, size=7.5)

    # --- The HA pair --------------------------------------------------------
    peer(ax, 10, 'kea1', 'primary')
    peer(ax, 102, 'kea2', 'standby (hot-standby)')
    for x in (34, 126):
        ax.plot([x, x], [bus_y, 67.5], color=MANAGEMENT, linewidth=2.2)
    label(ax, 34, 70.3, 'SSH, API, :8080, :9547, :9550', MANAGEMENT, size=7.5)
    label(ax, 126, 70.3, 'SSH, API, :8080, :9547, :9550', MANAGEMENT, size=7.5)

    # HA between the peers' APIs, above the database.
    arrow(ax, (56.6, 47.7), (103.4, 47.7), HA, both=True, lw=2.4)
    label(ax, 80, 53.5, 'HA (libdhcp_ha.so): heartbeats every 1 s,\nmaintenance, failover in 2-3 s;\n'
          'each peer calls the other\'s\nauthenticated API', HA, size=8)

    # --- Shared lease database -------------------------------------------
    box(ax, 66, 30, 28, 14, 'PostgreSQL lease database',
        'lease4: one row per lease;\nboth peers write (no lease updates\nbetween peers); kea_postgresql,\n'
        'schema by kea_lease_db', fill=FILL_DB, edge=SQL, title_size=9, body_size=7.5)
    arrow(ax, (56.6, 36.5), (65.4, 36.5), SQL, both=True)
    arrow(ax, (103.4, 36.5), (94.6, 36.5), SQL, both=True)
    label(ax, 61, 33.2, 'SQL\n:5432', SQL, size=7.5)
    label(ax, 99, 33.2, 'SQL\n:5432', SQL, size=7.5)

    # --- DHCP side ----------------------------------------------------------
    dhcp_y = 24
    ax.plot([8, 152], [dhcp_y, dhcp_y], color=DHCP, linewidth=3, solid_capstyle='round')
    label(ax, 10, dhcp_y - 2.4, 'DHCP segments (UDP 67/68)', DHCP, size=8.5, ha='left', weight='bold')
    for x in (34, 126):
        arrow(ax, (x, dhcp_y), (x, 30.6), DHCP, both=True, lw=2.2)
    box(ax, 14, 4, 40, 11.5, 'DHCP clients on the servers\' segment',
        'broadcast DISCOVER / REQUEST reaches both\npeers; the one that serves the scope answers',
        fill=FILL_DHCP, edge=DHCP)
    box(ax, 62, 4, 36, 11.5, 'Relay agents (routers)',
        'forward each request to both peers\n(relay.ip-addresses in the subnet)', fill=FILL_DHCP, edge=DHCP)
    box(ax, 106, 4, 40, 11.5, 'Clients on routed segments', 'reach the peers through their relay',
        fill=FILL_DHCP, edge=DHCP)
    for x in (34, 80):
        ax.plot([x, x], [15.9, dhcp_y], color=DHCP, linewidth=2.2)
    arrow(ax, (105.6, 10), (98.4, 10), DHCP)

    ax.text(WIDTH - 2, 0.8, 'One HA pair shown: a site has any number, each an inventory group named by '
            'kea_dhcp4_ha_group, rolled in parallel.', ha='right', va='bottom', fontsize=8, color=MUTED,
            style='italic')

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110, facecolor='white', metadata={'Software': None})


def main(argv=None):
    default = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'docs', 'images',
                                            'architecture.png'))
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--output', default=default, help='PNG to write (default: docs/images/architecture.png)')
    args = parser.parse_args(argv)
    draw(args.output)
    print('architecture: wrote %s' % os.path.relpath(args.output))
    return 0


if __name__ == '__main__':
    sys.exit(main())
