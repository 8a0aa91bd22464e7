# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast path's stamp: what a finished run of a role left on a host, and how to tell that nothing moved since.

Used on both sides: the module (on the host) fingerprints files, listings,
services and packages; the action plugin (on the controller) turns the
role's inputs into keyed digests. Neither side ever stores or returns a
value, only digests (HMAC-SHA256 with a random salt kept in the stamp).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import json
import os
import stat

STAMP_VERSION = 1

try:
    from collections.abc import Mapping
except ImportError:  # pragma: no cover - Python 2 is not supported by the collection
    Mapping = dict  # pylint: disable=invalid-name


def canonical(value):
    """A value reduced to JSON types with sorted keys, so equal inputs give equal digests.

    Strings of any subclass (templated, unsafe, tagged) become plain str;
    Ansible's per-run omit placeholder becomes a fixed marker.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, bytes):
        return canonical(value.decode('utf-8', 'replace'))
    if isinstance(value, str):
        text = str(value)
        return '__omit__' if text.startswith('__omit_place_holder__') else text
    if isinstance(value, Mapping):
        return dict((str(k), canonical(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if type(value).__name__ == 'Omit':
        return '__omit__'
    return str(value)


def keyed_digest(salt, value):
    """HMAC-SHA256 of the canonical JSON of value under salt (hex)."""
    blob = json.dumps(canonical(value), sort_keys=True, separators=(',', ':')).encode('utf-8')
    return hmac.new(bytes(bytearray.fromhex(salt)), blob, hashlib.sha256).hexdigest()


def sha256_file(path):
    """Hex sha256 of a file's content, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _file_entry(path, st):
    mode = '%o:%d:%d' % (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    if stat.S_ISLNK(st.st_mode):
        return 'link %s %s' % (os.readlink(path), mode)
    if stat.S_ISDIR(st.st_mode):
        return 'dir %s' % mode
    if not stat.S_ISREG(st.st_mode):
        return 'special %s' % mode
    return 'file %s %s' % (sha256_file(path), mode)


def fingerprint_path(path):
    """{path: entry} for a file, or for a directory and everything under it (content, mode, owner)."""
    out = {}
    try:
        st = os.lstat(path)
    except OSError:
        return {path: 'absent'}
    out[path] = _file_entry(path, st)
    if stat.S_ISDIR(st.st_mode):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(dirs + files):
                full = os.path.join(root, name)
                try:
                    out[full] = _file_entry(full, os.lstat(full))
                except OSError:
                    out[full] = 'absent'
    return out


def fingerprint_listing(path):
    """The names in one directory (not their content): which packages a virtual environment holds."""
    try:
        return {path: 'names ' + ' '.join(sorted(os.listdir(path)))}
    except OSError:
        return {path: 'absent'}


def dpkg_versions(names, status_file='/var/lib/dpkg/status'):
    """{package: installed version or None} from dpkg's status file."""
    wanted = set(names)
    found = dict((name, None) for name in names)
    if not wanted:
        return found
    try:
        with open(status_file, 'rb') as handle:
            text = handle.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return found
    for block in text.split('\n\n'):
        fields = {}
        for line in block.split('\n'):
            if line[:1] in (' ', '\t') or ':' not in line:
                continue
            key, value = line.split(':', 1)
            fields[key] = value.strip()
        name = fields.get('Package')
        if name in wanted and fields.get('Status', '').endswith(' installed'):
            arch = fields.get('Architecture', '')
            found[name] = fields.get('Version', '') + ('' if arch in ('', 'all') else ' ' + arch)
    return found


def compare_entries(kind, recorded, current):
    """Reasons, one per entry of ``kind`` that differs between the stamp and the host now."""
    reasons = []
    for key in sorted(set(recorded) | set(current)):
        before, now = recorded.get(key, 'absent'), current.get(key, 'absent')
        if before != now:
            reasons.append('%s %s changed since the last run' % (kind, key))
    return reasons


def compare_items(recorded, current):
    """Names of the inputs that differ, for the reason a role has to run in full."""
    names = sorted(set(recorded) | set(current))
    return [name for name in names if recorded.get(name) != current.get(name)]
