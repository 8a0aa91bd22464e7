# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller half of dhcpops.kea.dhcp4_config: load, build, lint, render.

Building and linting happen here, before any connection to a managed host is
used, so a configuration with lint errors never leaves the controller.  The
module then stages, validates and swaps the rendered file on the target.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible.plugins.action import ActionBase

from ansible_collections.dhcpops.kea.plugins.module_utils.dhcp4_config_spec import ARGUMENT_SPEC, TARGET_OPTIONS
from ansible_collections.dhcpops.kea.plugins.module_utils.kea_config import (
    ModelError, build_dhcp4, redacted_view, render,
)
from ansible_collections.dhcpops.kea.plugins.module_utils.kea_lint import lint_dhcp4

try:
    import yaml
    _YAML_LOADER = getattr(yaml, 'CSafeLoader', None) or yaml.SafeLoader
except ImportError:  # pragma: no cover - ansible-core depends on PyYAML
    yaml = None


def load_data_file(path):
    """JSON when it parses as JSON (fast at any size), YAML otherwise."""
    with open(path, 'rb') as handle:
        data = handle.read()
    if path.endswith('.json') or data.lstrip()[:1] in (b'{', b'['):
        try:
            return json.loads(data)
        except ValueError as exc:
            if path.endswith('.json'):
                raise ModelError('%s is not valid JSON: %s' % (path, exc))
    try:
        return yaml.load(data, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise ModelError('%s is not valid YAML: %s' % (path, exc))


def _is_collection_playbook_dir(path):
    """The playbooks/ of a collection (dhcpops.kea.site runs from there): playbooks, never site data."""
    parent = os.path.dirname(path)
    return os.path.basename(path) == 'playbooks' and any(
        os.path.isfile(os.path.join(parent, name)) for name in ('galaxy.yml', 'MANIFEST.json'))


def reservation_file_candidates(action, source, inventory_dir=None):
    """Where a relative reservations file is looked for, in order.

    The ``files/`` of each role on the task's path, then the playbook
    directory and the host's inventory directory, each with its ``files/``
    first.  A site that runs the collection's playbooks (dhcpops.kea.site)
    keeps its files beside its inventory; the collection's own playbooks/
    is not searched.  Nor is a role's ``tasks/``, which Ansible's own
    search (_find_needle) tries first: a site file named reservations.yml
    would resolve to the role's task file of that name.
    """
    source = os.path.expanduser(source)
    if os.path.isabs(source):
        return [source]
    role_dirs = [os.path.normpath(role._role_path) for role in action._task.get_dep_chain() or []
                 if getattr(role, '_role_path', None)]
    candidates = [os.path.join(role_dir, 'files', source) for role_dir in reversed(role_dirs)]
    for base in (action._loader.get_basedir(), inventory_dir):
        if not base:
            continue
        base = os.path.normpath(base)
        if _is_collection_playbook_dir(base):
            continue
        candidates.extend([os.path.join(base, 'files', source), os.path.join(base, source)])
    out = []
    for candidate in candidates:
        candidate = os.path.normpath(candidate)
        if candidate not in out:
            out.append(candidate)
    return out


def read_reservation_sets(action, paths, task_vars):
    """[(path, data)] of reservation files on the controller (see reservation_file_candidates)."""
    sets = []
    for path in paths:
        candidates = reservation_file_candidates(action, path, task_vars.get('inventory_dir'))
        found = next((c for c in candidates if os.path.isfile(c)), None)
        if found is None:
            raise ModelError('reservations file %s not found; looked at: %s' % (path, ', '.join(candidates)))
        sets.append((path, load_data_file(found)))
    return sets


def count_stats(dhcp4):
    subnets = list(dhcp4.get('subnet4', []))
    for network in dhcp4.get('shared-networks', []) or []:
        subnets.extend(network.get('subnet4', []) or [])
    return dict(
        subnets=len(subnets),
        pools=sum(len(s.get('pools', []) or []) for s in subnets),
        reservations=sum(len(s.get('reservations', []) or []) for s in subnets)
        + len(dhcp4.get('reservations', []) or []),
    )


def format_findings(findings):
    return '\n'.join(' - [%s] %s' % (f.code, f.message) for f in findings)


class ActionModule(ActionBase):

    TRANSFERS_FILES = True
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp

        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        lint_options = dict(args['lint'] or {})
        version = args['kea_version']

        try:
            spec = dict(
                kea_version=version,
                hooks_dir=args['hooks_dir'],
                interfaces=args['interfaces'],
                subnets=args['subnets'],
                subnets_label=args['subnets_label'],
                reservation_sets=read_reservation_sets(self, args['reservations_files'], task_vars),
                option_data=args['option_data'],
                globals=args['globals'],
                lease_database=args['lease_database'],
                hosts_database=args['hosts_database'],
                control_socket=args['control_socket'],
                control_sockets=args['control_sockets'],
                hooks_libraries=args['hooks_libraries'],
                ha=args['ha'],
                loggers=args['loggers'],
                raw=args['raw'],
            )
            config, sources = build_dhcp4(spec)
            written = config
            if not args['reservations_in_config'] and args['reservations_files']:
                # Linted with the files' reservations, written without them.
                written, dummy = build_dhcp4(dict(spec, reservation_sets=[]))
        except ModelError as exc:
            raise AnsibleActionFail('dhcp4_config: %s. Nothing was changed.' % to_native(exc))

        findings = lint_dhcp4(config['Dhcp4'], sources, dict(
            reservation_in_pool=lint_options.get('reservation_in_pool', 'warning'),
            kea_version=version,
            paths=args['kea_paths'],
            extra_subnet_keys=lint_options.get('extra_subnet_keys') or [],
        ))
        fatal = [f for f in findings if f.severity == 'error' or lint_options.get('fail_on_warnings')]
        warnings = [f for f in findings if f not in fatal]
        result['findings'] = [f.to_dict() for f in findings]
        result['stats'] = count_stats(config['Dhcp4'])
        if written is not config:
            result['stats']['reservations_in_config'] = count_stats(written['Dhcp4'])['reservations']
        if warnings:
            result.setdefault('warnings', []).extend('[%s] %s' % (f.code, f.message) for f in warnings)
        if fatal:
            result.update(failed=True, changed=False, msg='dhcp4_config: the DHCPv4 configuration has %d lint '
                          'error(s); nothing was changed:\n%s' % (len(fatal), format_findings(fatal)))
            return result

        content = to_bytes(render(written))
        result['checksum'] = hashlib.sha256(content).hexdigest()
        if args['state'] == 'rendered':
            result.update(self._write_local(args, content))
            return result

        remote_tmp = self._connection._shell.tmpdir or self._make_tmp_path()
        try:
            remote_src = self._connection._shell.join_path(remote_tmp, 'kea-dhcp4.candidate.json')
            self._transfer_data(remote_src, content)
            self._fixup_perms2((remote_tmp, remote_src))
            module_args = dict((k, args[k]) for k in TARGET_OPTIONS if k in args)
            module_args['src'] = remote_src
            module_result = self._execute_module(module_name='dhcpops.kea.dhcp4_config', module_args=module_args,
                                                 task_vars=task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

        for key in ('warnings', 'deprecations'):
            if key in module_result:
                result.setdefault(key, []).extend(module_result.pop(key))
        result.update(module_result)
        return result

    def _write_local(self, args, content):
        dest = args['dest']
        old = None
        if os.path.exists(dest):
            with open(dest, 'rb') as handle:
                old = handle.read()
        out = dict(dest=dest, changed=old != content)
        if self._play_context.diff and out['changed']:
            out['diff'] = dict(before_header=dest, after_header=dest,
                               before=redacted_view(to_text(old)) if old is not None else '',
                               after=redacted_view(to_text(content)))
        if out['changed'] and not self._play_context.check_mode:
            directory = os.path.dirname(os.path.abspath(dest))
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o750)
            fd, staged = tempfile.mkstemp(prefix='.%s.' % os.path.basename(dest), dir=directory)
            try:
                # Rendered files hold the same secrets as live ones.
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, 'wb') as handle:
                    handle.write(content)
                os.rename(staged, dest)
            except OSError:
                if os.path.exists(staged):
                    os.unlink(staged)
                raise
        return out
