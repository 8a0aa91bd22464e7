# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller half of dhcpops.kea.fast_path: the role's inputs as keyed digests, and the decision."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import hashlib
import os
import re

from ansible import __version__ as ansible_version
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.dhcpops.kea.plugins.action.dhcp4_config import reservation_file_candidates
from ansible_collections.dhcpops.kea.plugins.module_utils.fast_path import compare_items, keyed_digest, sha256_file

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FACTS_KEY = 'dhcpops_kea_host'
# Switches of the fast path itself are not inputs: turning it on must not
# make a deployment look changed.
NOT_INPUTS = re.compile(r'fast_path')


class Unavailable(Exception):
    """The inputs cannot be known before the role runs: run it in full."""


def collection_digest(root=COLLECTION_ROOT):
    """sha256 of the collection's roles/ and plugins/ (paths and content): a new release is a change."""
    digest = hashlib.sha256()
    for top in ('roles', 'plugins'):
        base = os.path.join(root, top)
        for directory, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d != '__pycache__')
            for name in sorted(files):
                if name.endswith(('.pyc', '.pyo')):
                    continue
                path = os.path.join(directory, name)
                digest.update(os.path.relpath(path, root).encode('utf-8') + b'\0')
                with open(path, 'rb') as handle:
                    digest.update(handle.read())
                digest.update(b'\0')
    return digest.hexdigest()


def controller_file_fingerprint(path):
    """A file's sha256, or a directory's file names and sizes (a wheelhouse: names carry the versions)."""
    if os.path.isdir(path):
        entries = []
        for directory, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(directory, name)
                entries.append('%s %d' % (os.path.relpath(full, path), os.path.getsize(full)))
        return 'dir ' + hashlib.sha256('\n'.join(entries).encode('utf-8')).hexdigest()
    return 'file ' + sha256_file(path)


def without_gathered_facts(variables, facts):
    """The variables with every gathered fact replaced by the probe's facts, as at every run."""
    out = dict(variables)
    for name in list(out.get('ansible_facts') or {}):
        out.pop('ansible_' + name, None)
    out['ansible_facts'] = dict(facts)
    for name, value in facts.items():
        out['ansible_' + name] = value
    return out


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('role', 'state', 'probe', 'peers', 'files', 'prefixes', 'max_age', 'paths',
                             'listings', 'services', 'packages', 'invalidate', 'stamp_dir'))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        state = args.get('state')
        if not args.get('role'):
            raise AnsibleActionFail('fast_path: role is required')
        if state in ('probe', 'invalidate'):
            result.update(self.module(args, task_vars))
            return result
        if state == 'compare':
            result.update(self.compare(args, task_vars))
            return result
        if state == 'record':
            try:
                inputs = self.inputs(args, task_vars, salt=binascii.hexlify(os.urandom(16)).decode())
            except Unavailable as exc:
                # Not recordable: invalidate, so that the next run converges in full.
                result.update(self.module(dict(args, state='invalidate'), task_vars))
                result.update(recorded=False, msg='no stamp recorded: %s' % exc)
                return result
            result.update(self.module(args, task_vars, inputs=inputs))
            return result
        raise AnsibleActionFail('fast_path: state must be one of probe, compare, invalidate, record; got %r' % (state,))

    def module(self, args, task_vars, **extra):
        """Run the module on the host with the options of args that it reads in that state."""
        keys = ('role', 'state', 'stamp_dir')
        if args['state'] == 'probe':
            keys += ('invalidate',)
        elif args['state'] == 'record':
            keys += ('paths', 'listings', 'services', 'packages')
        module_args = dict((k, v) for k, v in args.items() if k in keys)
        module_args.update(extra)
        return self._execute_module('dhcpops.kea.fast_path', module_args=module_args, task_vars=task_vars)

    def compare(self, args, task_vars):
        probe = args.get('probe')
        if not isinstance(probe, dict) or 'stamp' not in probe:
            return dict(changed=False, current=False,
                        reasons=['no probe result: the probe of this run did not run on this host'])
        reasons = list(probe.get('reasons') or [])
        stamp = probe.get('stamp') or {}
        if stamp.get('found'):
            max_age = int(args.get('max_age', 86400) or 0)
            if max_age > 0 and int(stamp.get('age', 0)) > max_age:
                reasons.append('the stamp is %ss old, older than max_age (%ss)' % (stamp.get('age'), max_age))
            recorded = stamp.get('inputs') or {}
            try:
                now = self.inputs(args, task_vars, salt=recorded.get('salt') or '00')
            except Unavailable as exc:
                reasons.append(to_native(exc))
            else:
                changed = compare_items(recorded.get('items') or {}, now['items'])
                if changed:
                    reasons.append('inputs changed: %s' % ', '.join(changed))
        current = not reasons
        return dict(changed=False, current=current, reasons=reasons,
                    msg='current: the last full run still holds, the role is skipped' if current
                    else 'full run: %s' % '; '.join(reasons))

    def inputs(self, args, task_vars, salt):
        """{'salt': salt, 'items': {name: keyed digest}} of everything the role's result depends on."""
        prefixes = tuple(args.get('prefixes') or ('kea_', 'stork_agent_'))
        facts = (task_vars.get('ansible_facts') or {}).get(FACTS_KEY)
        if not isinstance(facts, dict):
            raise Unavailable('no facts from the probe of this run on this host')
        items = {
            'role': keyed_digest(salt, args['role']),
            'collection': keyed_digest(salt, collection_digest()),
            'ansible-core': keyed_digest(salt, '.'.join(ansible_version.split('.')[:2])),
            'facts': keyed_digest(salt, facts),
        }
        own = without_gathered_facts(task_vars, facts)
        items.update(self.variable_items(salt, own, prefixes, 'var:'))
        peers = [p for p in (args.get('peers') or []) if p != task_vars.get('inventory_hostname')]
        items['peers'] = keyed_digest(salt, sorted(peers))
        hostvars = task_vars.get('hostvars')
        for peer in sorted(peers):
            raw = hostvars.raw_get(peer) if hostvars is not None and hasattr(hostvars, 'raw_get') else None
            if not isinstance(raw, dict) and not hasattr(raw, 'keys'):
                raise Unavailable('peer %s is not in the inventory' % peer)
            raw = dict(raw)
            # A peer that this run has not probed (not in this play, e.g. the
            # Kea host that runs kea-admin for the database) is seen without
            # facts, the same way at every run in which it is not probed.
            peer_facts = (raw.get('ansible_facts') or {}).get(FACTS_KEY)
            peer_facts = peer_facts if isinstance(peer_facts, dict) else {}
            items['peer-facts:' + peer] = keyed_digest(salt, peer_facts)
            items.update(self.variable_items(salt, without_gathered_facts(raw, peer_facts), prefixes,
                                             'peer:%s:' % peer, strict=False))
        for path in args.get('files') or []:
            items['file:' + path] = keyed_digest(salt, self.file_fingerprint(path, task_vars))
        return dict(salt=salt, items=items)

    def variable_items(self, salt, variables, prefixes, label, strict=True):
        """{label + name: keyed digest of the templated value} of the variables with the prefixes.

        strict: a variable that cannot be templated makes the inputs
        unknowable (this host's own variables). Otherwise (a peer's) its
        text stands for it, so that the peer's own run sees the failure.
        """
        templar = self._templar.copy_with_new_env(available_variables=variables)
        items = {}
        for name in sorted(variables):
            if not name.startswith(prefixes) or NOT_INPUTS.search(name):
                continue
            try:
                value = templar.template(variables[name])
                items[label + name] = keyed_digest(salt, value)
            except Exception as exc:  # pylint: disable=broad-except
                if strict:
                    # Never the message: it may quote a value.
                    raise Unavailable('%s%s cannot be evaluated before the role runs (%s)'
                                      % (label, name, type(exc).__name__))
                items[label + name] = keyed_digest(salt, ['unevaluated', variables[name]])
        return items

    def file_fingerprint(self, path, task_vars):
        candidates = reservation_file_candidates(self, path, task_vars.get('inventory_dir'))
        found = next((c for c in candidates if os.path.exists(c)), None)
        if found is None:
            raise Unavailable('controller file %s not found' % path)
        try:
            return controller_file_fingerprint(found)
        except (IOError, OSError) as exc:
            raise Unavailable('controller file %s cannot be read (%s)' % (path, type(exc).__name__))
