#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Draw the figures of docs/benchmarks.md from the recorded results.

Reads benchmarks/results/config_pipeline.json, dhcp_service.json and
ansible_cost.json (any may be missing) and writes PNG images into docs/images/benchmarks/:

  config_pipeline_sizes.png     build + lint + render against `kea-dhcp4 -t`
                                per site size, and their ratio
  config_pipeline_playbook.png  the whole validate playbook against the
                                naive path: wall time and peak memory
  dhcp_service_drops.png        per configuration, the share of exchanges
                                not completed at every rate tried, every
                                repeat, against the 1 % limit
  dhcp_service_throughput.png   median highest passing rate per
                                configuration, each search as a dot
  dhcp_service_cpu.png          CPU microseconds per exchange, per process
  ansible_cost.png              per pair count: fresh site.yml, no-change
                                re-run and Ansible's floor, with the ratio
                                re-run / floor; the rolling reload's
                                duration against one pair's times N

Each figure names the machine and the date of the measurement. The images
are drawn with fixed sizes, resolution and style and carry no timestamps,
so the same results give the same files. Reproduce with:

    make plots            # or: .venv/bin/python benchmarks/plots.py
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

WIDTH, HEIGHT, DPI = 10.0, 4.6, 110
# PNG text chunks matplotlib would otherwise stamp into every file.
PNG_METADATA = {'Software': None, 'CreationDate': None}

# Configurations of dhcp_service.py in the order the docs discuss them;
# any other configuration found in the results follows, by name.
CONFIG_ORDER = ['memfile', 'pg-untuned', 'pg-tuned', 'ha']
CONFIG_LABELS = {
    'memfile': 'memfile',
    'pg-untuned': 'PostgreSQL, untuned',
    'pg-tuned': 'PostgreSQL, tuned',
    'ha': 'HA pair (hot-standby)',
}
SEARCH_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b']

# Series of config_pipeline.json's per-size rows: every key ending in `_s`.
PIPELINE_LABELS = {
    'build_lint_s': 'build + lint + render (in process)',
    'kea_check_s': 'kea-dhcp4 -t on the same file',
}
PIPELINE_RUNS = [
    ('floor', "Ansible's floor:\nan empty play"),
    ('validate_json', 'dhcpops.kea.validate,\nreservations as JSON'),
    ('validate_yaml', 'dhcpops.kea.validate,\nreservations as YAML'),
    ('naive', 'naive: vars file,\ntemplate, kea-dhcp4 -t'),
]
SPLIT_PARTS = [
    ('build_lint_s', 'build + lint + render', '#2ca02c'),
    ('kea_check_s', 'kea-dhcp4 -t', '#1f77b4'),
    ('ansible_overhead_s', "Ansible's own work", '#c7c7c7'),
]
# CPU per exchange, bottom to top; `other` is what the benchmark's
# containers used beyond the named processes (standby Kea, control agents).
CPU_PARTS = [
    ('kea', 'kea-dhcp4', '#1f77b4'),
    ('postgres', 'PostgreSQL', '#ff7f0e'),
    ('perfdhcp', 'perfdhcp (load generator)', '#7f7f7f'),
    ('journald', 'journald', '#bcbd22'),
    ('other', 'other processes of the benchmark', '#e377c2'),
]


def pyplot():
    """matplotlib, set up for reproducible output whatever the user's matplotlibrc says."""
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use('Agg')
    matplotlib.rcdefaults()
    matplotlib.rcParams.update({
        'svg.hashsalt': 'dhcpops.kea benchmarks',
        'figure.dpi': DPI,
        'savefig.dpi': DPI,
        'font.size': 9.5,
        'axes.titlesize': 10.5,
        'axes.grid': True,
        'axes.axisbelow': True,
        'grid.alpha': 0.3,
        'legend.fontsize': 8.5,
        'legend.framealpha': 0.9,
    })
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    return plt


# ---------------------------------------------------------------------------
# Reading the results

def load(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        print('plots: skipping %s: %s' % (path, exc), file=sys.stderr)
        return None


def measured_on(result, path):
    """The date of the measurement; the results file's last commit when the results do not carry one."""
    for key in ('started', 'date', 'measured'):
        value = result.get(key)
        if isinstance(value, str) and value:
            return 'measured %s' % value[:10]
    try:
        proc = subprocess.run(['git', 'log', '-1', '--format=%cs', '--', os.path.basename(path)],
                              cwd=os.path.dirname(os.path.abspath(path)), capture_output=True, text=True,
                              check=False, timeout=20)
        if proc.returncode == 0 and proc.stdout.strip():
            return 'results committed %s' % proc.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return 'date not recorded'


def machine_line(machine, extra=None):
    """One line naming the machine, from either script's `machine` record."""
    machine = machine or {}
    parts = []
    if machine.get('cpu_model'):
        parts.append(str(machine['cpu_model']))
    cores = machine.get('nproc') or machine.get('cores')
    if cores:
        parts.append('%s cores' % cores)
    if machine.get('memory_mb'):
        parts.append('%.0f GB RAM' % (machine['memory_mb'] / 1024.0))
    if machine.get('kernel'):
        parts.append('Linux %s' % machine['kernel'])
    elif machine.get('platform'):
        parts.append(str(machine['platform']))
    if machine.get('python'):
        parts.append('Python %s' % machine['python'])
    parts.extend(extra or [])
    return ', '.join(parts) or 'not recorded'


def titles(fig, title, subtitle):
    """Title and the machine's line at a fixed distance from the top; returns the top of the plotting area."""
    height = fig.get_figheight()
    fig.suptitle(title, fontsize=12, fontweight='bold', x=0.01, ha='left', y=1 - 0.08 / height, va='top')
    fig.text(0.01, 1 - 0.4 / height, subtitle, fontsize=8.5, color='#444444', ha='left', va='top')
    return 1 - 0.45 / height


def save(fig, out_dir, name):
    path = os.path.join(out_dir, name)
    fig.savefig(path, format='png', metadata=PNG_METADATA)
    print('plots: wrote %s' % os.path.relpath(path))
    return path


def thousands(value):
    return '{:,.0f}'.format(value)


# ---------------------------------------------------------------------------
# Config pipeline

def pipeline_sizes(plt, result, subtitle, out_dir):
    rows = sorted((r for r in result.get('sizes') or [] if r.get('reservations')), key=lambda r: r['reservations'])
    if not rows:
        return None
    series = []
    for row in rows:
        for key in row:
            if key.endswith('_s') and key not in series:
                series.append(key)
    series = [k for k in PIPELINE_LABELS if k in series] + sorted(k for k in series if k not in PIPELINE_LABELS)
    sizes = [r['reservations'] for r in rows]
    repeat = result.get('repeat')

    fig, (left, right) = plt.subplots(1, 2, figsize=(WIDTH, HEIGHT), gridspec_kw={'width_ratios': [3, 2]})
    for index, key in enumerate(series):
        points = [(r['reservations'], r[key], r.get(key[:-2] + '_samples')) for r in rows if r.get(key) is not None]
        if not points:
            continue
        colour = SEARCH_COLOURS[index % len(SEARCH_COLOURS)]
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        left.plot(xs, ys, marker='o', color=colour, label=PIPELINE_LABELS.get(key, key))
        # min/max whiskers when the results keep every repeat, not only the median
        for x, y, samples in points:
            if samples:
                left.vlines(x, min(samples), max(samples), color=colour, linewidth=1.2)
                left.plot([x, x], [min(samples), max(samples)], linestyle='none', marker='_', color=colour)
            left.annotate('%.2f s' % y if y < 10 else '%.1f s' % y, (x, y), textcoords='offset points',
                          xytext=(0, 7 if index else -13), ha='center', fontsize=8, color=colour)
    left.set_xscale('log')
    left.set_yscale('log')
    left.set_xticks(sizes)
    left.set_xticklabels(['%s\n%.1f MB' % (thousands(r['reservations']), r.get('bytes', 0) / 1e6) if r.get('bytes')
                          else thousands(r['reservations']) for r in rows])
    left.minorticks_off()
    left.set_xlim(sizes[0] / 1.4, sizes[-1] * 1.4)
    low, high = left.get_ylim()
    left.set_ylim(low / 1.6, high * 1.6)
    left.set_xlabel('reservations in the site (and size of kea-dhcp4.conf)')
    left.set_ylabel('seconds, log scale' + (' (median of %d)' % repeat if repeat else ''))
    left.set_title('Time per site size')
    left.legend(loc='upper left')

    ratios = []
    for row in rows:
        ratio = row.get('ratio')
        if ratio is None and row.get('build_lint_s') and row.get('kea_check_s'):
            ratio = row['build_lint_s'] / row['kea_check_s']
        if ratio is not None:
            ratios.append((row['reservations'], ratio))
    if ratios:
        right.plot([r[0] for r in ratios], [r[1] for r in ratios], marker='o', color='#d62728', label='measured ratio')
        for x, y in ratios:
            right.annotate('%.2f' % y, (x, y), textcoords='offset points', xytext=(0, 7), ha='center', fontsize=8)
    right.axhline(0.5, color='#333333', linestyle='--', linewidth=1, label='target: at most 0.5')
    right.set_xscale('log')
    right.set_xticks(sizes)
    right.set_xticklabels([thousands(s) for s in sizes])
    right.minorticks_off()
    right.set_xlim(sizes[0] / 1.4, sizes[-1] * 1.4)
    right.set_ylim(0, max([0.6] + [r[1] * 1.2 for r in ratios]))
    right.set_xlabel('reservations')
    right.set_ylabel('build + lint + render / kea-dhcp4 -t')
    right.set_title('Ratio to Kea\'s own parse')
    right.legend(loc='lower right')

    top = titles(fig, "Config pipeline: build + lint + render against Kea's own parser", subtitle)
    fig.tight_layout(rect=(0, 0, 1, top))
    path = save(fig, out_dir, 'config_pipeline_sizes.png')
    plt.close(fig)
    return path


def pipeline_playbook(plt, result, subtitle, out_dir):
    ansible = result.get('ansible') or {}
    runs = [(key, label, ansible[key]) for key, label in PIPELINE_RUNS if isinstance(ansible.get(key), dict)]
    if not runs:
        return None
    split = ansible.get('split_validate_json') or {}
    fig, (left, right) = plt.subplots(1, 2, figsize=(WIDTH, HEIGHT), sharey=True)
    ys = list(range(len(runs)))[::-1]
    longest = max(r[2].get('seconds') or 0 for r in runs)
    labelled = set()
    for y, (key, dummy, run) in zip(ys, runs):
        seconds = run.get('seconds')
        if seconds is None:
            continue
        parts = [p for p in SPLIT_PARTS if split.get(p[0]) is not None]
        if key == 'validate_json' and parts:
            start = 0.0
            for part, label, colour in parts:
                left.barh(y, split[part], left=start, color=colour, height=0.6,
                          label=None if label in labelled else label)
                labelled.add(label)
                start += split[part]
        else:
            left.barh(y, seconds, color='#8c564b' if key == 'naive' else '#9edae5', height=0.6)
        note = 'median of %d' % run['runs'] if (run.get('runs') or 0) > 1 else 'one run'
        left.text(seconds + longest * 0.01, y, '%.1f s  (%s)' % (seconds, note), va='center', fontsize=8.5)
        memory = run.get('peak_rss_mb')
        if memory is not None:
            right.barh(y, memory, color='#8c564b' if key == 'naive' else '#9edae5', height=0.6)
            right.text(memory + 12, y, '%s MB' % thousands(memory), va='center', fontsize=8.5)
    left.set_yticks(ys)
    left.set_yticklabels([r[1] for r in runs])
    left.set_xlim(0, longest * 1.45)
    left.set_xlabel('wall time, seconds')
    left.set_title('Wall time, one host' + (', %s reservations' % thousands(result['sizes'][-1]['reservations'])
                                            if result.get('sizes') else ''))
    if labelled:
        left.legend(loc='center right', title='validate (JSON), split', title_fontsize=8.5)
    memories = [r[2].get('peak_rss_mb') or 0 for r in runs]
    right.set_xlim(0, max(memories + [1]) * 1.3)
    right.set_xlabel('peak RSS, MB')
    right.set_title('Peak memory')
    for axes in (left, right):
        axes.grid(axis='y', visible=False)
    ratios = []
    for key, label in (('ratio_validate_json_to_naive', 'JSON'), ('ratio_validate_yaml_to_naive', 'YAML')):
        if ansible.get(key) is not None:
            ratios.append('%.3f (%s)' % (ansible[key], label))
    top = titles(fig, 'Config pipeline: dhcpops.kea.validate against the naive path'
                 + ('; ratio %s' % ', '.join(ratios) if ratios else ''), subtitle)
    fig.tight_layout(rect=(0, 0, 1, top))
    path = save(fig, out_dir, 'config_pipeline_playbook.png')
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------
# DHCP service

def ordered_configs(result):
    configs = result.get('configs') or {}
    names = [n for n in CONFIG_ORDER if n in configs] + sorted(n for n in configs if n not in CONFIG_ORDER)
    return [(n, configs[n] or {}) for n in names]


def service_drops(plt, result, subtitle, out_dir):
    configs = [(n, c) for n, c in ordered_configs(result) if c.get('searches')]
    if not configs:
        return None
    limit = result.get('drop_limit_pct', 1.0)
    columns = 2 if len(configs) > 1 else 1
    rows = (len(configs) + columns - 1) // columns
    fig, grid = plt.subplots(rows, columns, figsize=(WIDTH, 2.9 * rows + 1.0), squeeze=False)
    top = 1.0
    for axes, (name, config) in zip(grid.flat, configs):
        searches = config['searches']
        for index, search in enumerate(searches):
            colour = SEARCH_COLOURS[index % len(SEARCH_COLOURS)]
            runs = sorted((r for r in search.get('runs') or [] if r.get('rate') is not None and r.get('drop_pct') is not None),
                          key=lambda r: r['rate'])
            if not runs:
                continue
            # a small sideways shift per search keeps repeats at the same rate apart
            shift = 1.0 + 0.012 * (index - (len(searches) - 1) / 2.0)
            xs = [r['rate'] * shift for r in runs]
            ys = [r['drop_pct'] for r in runs]
            top = max([top] + ys)
            axes.plot(xs, ys, color=colour, linewidth=0.8, alpha=0.5)
            passed = [(x, y) for x, y, r in zip(xs, ys, runs) if r.get('passed', y < limit)]
            failed = [(x, y) for x, y, r in zip(xs, ys, runs) if not r.get('passed', y < limit)]
            axes.plot([p[0] for p in passed], [p[1] for p in passed], linestyle='none', marker='o', markersize=5,
                      color=colour, label='search %d' % (index + 1))
            axes.plot([p[0] for p in failed], [p[1] for p in failed], linestyle='none', marker='x', markersize=6,
                      markeredgewidth=1.5, color=colour)
        axes.axhline(limit, color='#d62728', linestyle='--', linewidth=1)
        median = (config.get('summary') or {}).get('median_highest')
        if median:
            axes.axvline(median, color='#333333', linestyle=':', linewidth=1.2)
            axes.annotate('median highest\npassing: %s/s' % thousands(median), (median, 0.97),
                          xycoords=('data', 'axes fraction'), xytext=(-5, 0), textcoords='offset points',
                          ha='right', va='top', fontsize=8)
        axes.set_yscale('symlog', linthresh=limit or 1.0, linscale=1.0)
        axes.set_title(CONFIG_LABELS.get(name, name))
        axes.set_xlabel('offered rate, exchanges/s')
        axes.set_ylabel('not completed, %')
        axes.set_xlim(left=0)
    for axes in grid.flat[len(configs):]:
        axes.set_visible(False)
    ticks = [t for t in (0, 0.5, 1, 2, 5, 10, 20, 50, 100) if t <= max(top * 1.2, 2)]
    for axes in grid.flat[:len(configs)]:
        axes.set_ylim(-0.05, max(top * 1.5, 2))
        axes.set_yticks(ticks)
        axes.set_yticklabels(['%g' % t for t in ticks])
        axes.minorticks_off()
    handles, labels = grid.flat[0].get_legend_handles_labels()
    from matplotlib.lines import Line2D  # pylint: disable=import-outside-toplevel
    handles += [Line2D([], [], color='#555555', marker='o', linestyle='none'),
                Line2D([], [], color='#555555', marker='x', markeredgewidth=1.5, linestyle='none'),
                Line2D([], [], color='#d62728', linestyle='--')]
    labels += ['passed', 'failed', '%g %% limit' % limit]
    fig.legend(handles, labels, loc='lower center', ncol=len(handles), frameon=False)
    seconds = result.get('seconds')
    top = titles(fig, 'DHCP service: exchanges not completed at each rate tried'
                 + (' (%d s per run, every search shown)' % seconds if seconds else ''), subtitle)
    fig.tight_layout(rect=(0, 0.35 / fig.get_figheight(), 1, top))
    path = save(fig, out_dir, 'dhcp_service_drops.png')
    plt.close(fig)
    return path


def service_throughput(plt, result, subtitle, out_dir):
    configs = [(n, c.get('summary') or {}) for n, c in ordered_configs(result)]
    configs = [(n, s) for n, s in configs if s.get('median_highest') is not None or s.get('highest_rates')]
    if not configs:
        return None
    fig, axes = plt.subplots(figsize=(WIDTH, HEIGHT))
    xs = list(range(len(configs)))
    tallest = 0
    for x, (name, summary) in zip(xs, configs):
        highs = [h for h in summary.get('highest_rates') or [] if h is not None]
        median = summary.get('median_highest')
        if median is None and highs:
            median = sorted(highs)[len(highs) // 2]
        tallest = max([tallest, median or 0] + highs)
        axes.bar(x, median or 0, width=0.6, color='#9edae5', edgecolor='#1f77b4',
                 label='median of the searches' if x == 0 else None)
        axes.text(x - 0.32, (median or 0), '%s/s ' % thousands(median or 0), ha='right', va='center', fontsize=9,
                  fontweight='bold')
        for index, high in enumerate(highs):
            shift = 0.09 * (index - (len(highs) - 1) / 2.0)
            axes.plot(x + shift, high, linestyle='none', marker='o', markersize=6, color='#333333',
                      label='highest passing rate of one search' if x == 0 and index == 0 else None)
    axes.set_xticks(xs)
    axes.set_xticklabels([CONFIG_LABELS.get(n, n) for n, dummy in configs])
    axes.set_xlim(-0.9, len(configs) - 0.5)
    axes.set_ylim(0, tallest * 1.15 or 1)
    axes.set_ylabel('exchanges/s with under %g %% not completed' % result.get('drop_limit_pct', 1.0))
    axes.grid(axis='x', visible=False)
    axes.legend(loc='upper right')
    extra = ''
    if result.get('tuned_over_untuned') is not None:
        extra = '; tuned over untuned %.2f' % result['tuned_over_untuned']
    top = titles(fig, 'DHCP service: highest passing rate%s (%s searches each)'
                 % (extra, result.get('repeats') or 'several'), subtitle)
    fig.tight_layout(rect=(0, 0, 1, top))
    path = save(fig, out_dir, 'dhcp_service_throughput.png')
    plt.close(fig)
    return path


def service_cpu(plt, result, subtitle, out_dir):
    configs = [(n, (c.get('summary') or {}).get('cpu_us_per_exchange_at_highest')) for n, c in ordered_configs(result)]
    configs = [(n, cpu) for n, cpu in configs if cpu]
    if not configs:
        return None
    fig, axes = plt.subplots(figsize=(WIDTH, HEIGHT))
    xs = list(range(len(configs)))
    tallest = 0
    used = set()
    for x, (dummy, cpu) in zip(xs, configs):
        named = sum(cpu.get(k) or 0 for k, dummy2, dummy3 in CPU_PARTS if k != 'other')
        values = dict(cpu, other=max(0, (cpu.get('bench_all') or named) - named))
        bottom = 0
        for key, dummy, colour in CPU_PARTS:
            value = values.get(key) or 0
            if value <= 0:
                continue
            axes.bar(x, value, bottom=bottom, width=0.6, color=colour)
            used.add(key)
            if value >= 120:
                axes.text(x, bottom + value / 2.0, thousands(value), ha='center', va='center', fontsize=8, color='white')
            bottom += value
        softirq = cpu.get('softirq') or 0
        if softirq > 0:
            axes.bar(x, softirq, bottom=bottom, width=0.6, color='white', edgecolor='#555555', hatch='///')
            used.add('softirq')
        axes.text(x, bottom + softirq, '%s µs\n+ %s softirq' % (thousands(bottom), thousands(softirq)) if softirq
                  else '%s µs' % thousands(bottom), ha='center', va='bottom', fontsize=8.5)
        tallest = max(tallest, bottom + softirq)
    axes.set_xticks(xs)
    axes.set_xticklabels([CONFIG_LABELS.get(n, n) for n, dummy in configs])
    axes.set_xlim(-0.6, len(configs) - 0.4)
    axes.set_ylim(0, tallest * 1.2 or 1)
    axes.set_ylabel('CPU µs per completed exchange')
    axes.grid(axis='x', visible=False)
    # top of the stack first, as the bars read
    from matplotlib.patches import Patch  # pylint: disable=import-outside-toplevel
    legend = [(Patch(facecolor=colour), label) for key, label, colour in CPU_PARTS if key in used]
    if 'softirq' in used:
        legend.append((Patch(facecolor='white', edgecolor='#555555', hatch='///'), 'softirq (host, network)'))
    legend.reverse()
    axes.legend([handle for handle, dummy in legend], [text for dummy, text in legend], loc='upper left', bbox_to_anchor=(1.01, 1.0))
    top = titles(fig, 'DHCP service: CPU per exchange at the highest passing rate (median of the searches)', subtitle)
    fig.tight_layout(rect=(0, 0, 1, top))
    path = save(fig, out_dir, 'dhcp_service_cpu.png')
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------
# The cost of running Ansible (ansible_cost.py)

COST_SERIES = [
    ('fresh_s', 'fresh site.yml (new pairs)', '#8c564b', 's'),
    ('rerun_full_s', 'no-change re-run, fast path off (every task)', '#9467bd', 'D'),
    ('rerun_s', 'no-change re-run (fast path, the default)', '#1f77b4', 'o'),
    ('floor_ping_s', "Ansible's floor: one ping per host", '#7f7f7f', '^'),
    ('floor_raw_s', 'floor with raw (no module)', '#bcbd22', 'v'),
]


def cost_sizes(result):
    return sorted((s for s in result.get('sizes') or [] if s.get('summary') and s.get('pairs')),
                  key=lambda s: s['pairs'])


def rolling_points(sizes):
    return [(s['pairs'], s['summary'].get('rolling_s'), s['summary'].get('rolling_pair_s'),
             s['summary'].get('rolling_drop_pct')) for s in sizes if s['summary'].get('rolling_s') is not None]


def ansible_cost(plt, result, subtitle, out_dir, rolling_result=None):
    """rolling_result: an earlier run whose rolling reloads stand in when this one made none (--no-rolling)."""
    sizes = cost_sizes(result)
    if not sizes:
        return None
    pairs = [s['pairs'] for s in sizes]
    fig, (left, right) = plt.subplots(1, 2, figsize=(WIDTH, HEIGHT + 0.4), gridspec_kw={'width_ratios': [3, 2]})
    for key, label, colour, marker in COST_SERIES:
        points = [(s['pairs'], s['summary'].get(key)) for s in sizes if s['summary'].get(key) is not None]
        if not points:
            continue
        left.plot([p[0] for p in points], [p[1] for p in points], marker=marker, color=colour, label=label)
        for x, y in points:
            # re-run and raw floor: figures under the line, clear of the fresh run's and the ping floor's above
            below = key in ('rerun_s', 'floor_raw_s')
            left.annotate('%.0f s' % y if y >= 10 else '%.1f s' % y, (x, y), textcoords='offset points',
                          xytext=(0, -7 if below else 6), ha='center', va='top' if below else 'bottom',
                          fontsize=8, color=colour)
    for size in sizes:
        ratio = size['summary'].get('ratio_rerun_to_ping')
        rerun = size['summary'].get('rerun_s')
        if ratio is not None and rerun is not None:
            left.annotate('re-run / floor: %.1f' % ratio, (size['pairs'], rerun), textcoords='offset points',
                          xytext=(0, -19), ha='center', va='top', fontsize=8, color='#1f77b4', fontweight='bold')
    left.set_yscale('log')
    left.set_xscale('log', base=2)
    left.set_xticks(pairs)
    left.set_xticklabels(['%d\n(%d Kea)' % (s['pairs'], s.get('kea_hosts', 2 * s['pairs'])) for s in sizes])
    left.minorticks_off()
    left.set_xlim(pairs[0] / 1.5, pairs[-1] * 1.7)
    low, high = left.get_ylim()
    # room above the lines for the legend
    left.set_ylim(low / 1.5, high * 12)
    left.set_xlabel('HA pairs (Kea containers), plus one PostgreSQL container')
    left.set_ylabel('seconds, log scale (median of %s)' % result.get('repeats', '?'))
    left.set_title('dhcpops.kea.site against Ansible\'s floor')
    left.legend(loc='upper left', fontsize=8, ncol=2)

    rolled, rolling_from = rolling_points(sizes), result
    if not rolled and rolling_result:
        rolled, rolling_from = rolling_points(cost_sizes(rolling_result)), rolling_result
    if rolled:
        xs = [r[0] for r in rolled]
        right.plot(xs, [r[1] for r in rolled], marker='o', color='#2ca02c', label='rolling_reload, whole playbook')
        for x, y, dummy, drops in rolled:
            right.annotate('%.0f s' % y + ('\n%.2f %% drops' % drops if drops is not None else ''), (x, y),
                           textcoords='offset points', xytext=(0, 8), ha='center', fontsize=8)
        per_pair = [(r[0], r[2]) for r in rolled if r[2] is not None]
        if per_pair:
            right.plot([p[0] for p in per_pair], [p[1] for p in per_pair], marker='s', color='#98df8a',
                       label='one pair (its two peers, summed)')
        first_pairs, first = rolled[0][0], rolled[0][1]
        if len(rolled) > 1:
            right.plot(xs, [first * x / float(first_pairs) for x in xs], linestyle='--', color='#333333', linewidth=1,
                       label='%s time x N (no parallelism)' % ("one pair's" if first_pairs == 1 else "%d pairs'" % first_pairs))
        right.set_xscale('log', base=2)
        right.set_xticks(xs)
        right.set_xticklabels([str(x) for x in xs])
        right.minorticks_off()
        right.set_xlim(xs[0] / 1.5, xs[-1] * 1.5)
        # the legend (upper left) clear of the figures above the points
        right.set_ylim(0, max(max(r[1] for r in rolled) * 1.6, first * xs[-1] / float(first_pairs) * 1.15))
        rate = rolling_from.get('load_rate')
        # The subtitle names the left panel's machine; an earlier run's may differ.
        machine = rolling_from.get('machine') or {}
        other_cpu = (rolling_from is not result
                     and machine.get('cpu_model') != (result.get('machine') or {}).get('cpu_model'))
        right.set_title('Rolling reload' + (' (pair 1 under %s/s)' % rate if rate else '')
                        + ('' if rolling_from is result else
                           '\nfrom the run of %s' % str(rolling_from.get('started', '?'))[:10])
                        + ('\non %s, %s cores' % (machine.get('cpu_model'), machine.get('nproc')) if other_cpu else ''))
        right.legend(loc='upper left', fontsize=8)
    else:
        right.text(0.5, 0.5, 'no rolling reload in these results', ha='center', va='center', transform=right.transAxes)
    right.set_xlabel('HA pairs')
    right.set_ylabel('seconds')
    top = titles(fig, 'The cost of running Ansible on the lab, %s' % (
        '%d to %d HA pairs' % (pairs[0], pairs[-1]) if len(pairs) > 1
        else '%d HA pair%s' % (pairs[0], '' if pairs[0] == 1 else 's')), subtitle)
    fig.text(0.01, 0.01, 'Connection: containers.podman.podman, which has no pipelining (every task copies its module '
             'and runs it with podman exec); over SSH, ansible.cfg turns pipelining on.',
             fontsize=8, color='#444444', ha='left', va='bottom')
    fig.tight_layout(rect=(0, 0.3 / fig.get_figheight(), 1, top))
    path = save(fig, out_dir, 'ansible_cost.png')
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--results', default=os.path.join(HERE, 'results'), help='folder of the results JSON files')
    parser.add_argument('--out', default=os.path.join(REPO, 'docs', 'images', 'benchmarks'), help='folder for the PNGs')
    opts = parser.parse_args(argv)
    plt = pyplot()
    if not os.path.isdir(opts.out):
        os.makedirs(opts.out)
    written = []

    path = os.path.join(opts.results, 'config_pipeline.json')
    result = load(path) if os.path.exists(path) else None
    if result:
        machine = result.get('machine') or {}
        extra = [machine['kea']] if machine.get('kea') else []
        subtitle = 'Machine: %s; %s' % (machine_line(dict(machine, kea=None), extra), measured_on(result, path))
        written += [pipeline_sizes(plt, result, subtitle, opts.out), pipeline_playbook(plt, result, subtitle, opts.out)]

    path = os.path.join(opts.results, 'dhcp_service.json')
    result = load(path) if os.path.exists(path) else None
    if result:
        machine = result.get('machine') or {}
        versions = result.get('versions') or {}
        extra = []
        if versions.get('kea'):
            extra.append('Kea %s' % versions['kea'])
        if versions.get('postgresql'):
            extra.append('PostgreSQL %s' % str(versions['postgresql']).split(' ', 1)[0])
        load_start, load_end = machine.get('loadavg_start'), machine.get('loadavg_end')
        if load_start and load_end:
            extra.append('load average %.1f to %.1f' % (load_start[0], load_end[0]))
        subtitle = 'Machine: %s; %s' % (machine_line(machine, extra), measured_on(result, path))
        written += [service_drops(plt, result, subtitle, opts.out), service_throughput(plt, result, subtitle, opts.out),
                    service_cpu(plt, result, subtitle, opts.out)]

    path = os.path.join(opts.results, 'ansible_cost.json')
    result = load(path) if os.path.exists(path) else None
    if result:
        machine = result.get('machine') or {}
        versions = result.get('versions') or {}
        extra = []
        core = re.search(r'core ([0-9][0-9.]*)', versions.get('ansible_core') or '')
        if core:
            extra.append('ansible-core %s' % core.group(1))
        if versions.get('kea'):
            extra.append('Kea %s' % versions['kea'])
        load_start, load_end = machine.get('loadavg_start'), machine.get('loadavg_end')
        if load_start and load_end:
            extra.append('load average %.1f to %.1f' % (load_start[0], load_end[0]))
        subtitle = 'Machine: %s; %s' % (machine_line(machine, extra), measured_on(result, path))
        # A run made with --no-rolling borrows the rolling reloads of the
        # run kept in ansible_cost_rolling.json (the panel says which).
        path = os.path.join(opts.results, 'ansible_cost_rolling.json')
        rolling = load(path) if os.path.exists(path) else None
        written.append(ansible_cost(plt, result, subtitle, opts.out, rolling_result=rolling))

    written = [w for w in written if w]
    if not written:
        print('plots: no results to draw in %s' % opts.results, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
