# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of the reservation modules: who asked, and the audit log of what changed.

The log is JSON Lines on the controller: one object per task that changed
something, appended under an exclusive lock so that parallel hosts (or
parallel jobs on one controller) never interleave a line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import errno
import fcntl
import getpass
import json
import os
import socket

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.action import ActionBase

# AWX and Automation Controller pass these as extra variables to every job
# (older releases with the tower_ prefix).
_JOB_VARS = (
    ('user', ('awx_user_name', 'tower_user_name')),
    ('job_id', ('awx_job_id', 'tower_job_id')),
    ('job_template', ('awx_job_template_name', 'tower_job_template_name')),
    ('job_launch_type', ('awx_job_launch_type', 'tower_job_launch_type')),
)


def actor(task_vars):
    """Who made the change: the AWX user and job when AWX runs it, the controller's user otherwise."""
    who = {}
    for key, names in _JOB_VARS:
        for name in names:
            if task_vars.get(name) not in (None, ''):
                who[key] = task_vars[name]
                break
    if 'user' not in who:
        try:
            who['user'] = getpass.getuser()
        except (KeyError, OSError):
            who['user'] = 'uid %d' % os.getuid()
    who['controller'] = socket.gethostname()
    return who


def check_writable(path):
    """Fail before any change when the log cannot be written."""
    directory = os.path.dirname(os.path.abspath(path)) or '.'
    if not os.path.isdir(directory):
        raise AnsibleActionFail('audit_log %s: the directory %s does not exist; create it first. Nothing was changed.'
                                % (path, directory))
    if os.path.exists(path) and not os.access(path, os.W_OK) or not os.access(directory, os.W_OK) \
            and not os.path.exists(path):
        raise AnsibleActionFail('audit_log %s is not writable for the controller user. Nothing was changed.' % path)


def append(path, record):
    line = to_bytes(json.dumps(record, sort_keys=True, separators=(',', ':'))) + b'\n'
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
    finally:
        os.close(fd)


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def display_url(url):
    if not url:
        return None
    # The URL never carries credentials in these modules; strip any userinfo anyway.
    head, sep, tail = url.partition('://')
    if sep and '@' in tail.split('/', 1)[0]:
        tail = tail.split('@', 1)[1]
    return head + sep + tail


class ReservationAction(ActionBase):
    """Runs the module on the target, then records a change on the controller."""

    TRANSFERS_FILES = False

    def prepare(self, args, task_vars):
        """Hook for subclasses: return the module arguments."""
        return args

    def summary(self, module_result):
        """Hook for subclasses: what the audit record says changed."""
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ReservationAction, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        log = args.get('audit_log')
        if log and not self._play_context.check_mode:
            check_writable(log)
        module_args = self.prepare(args, task_vars)
        module_args.pop('audit_log', None)
        module_result = self._execute_module(module_name=self.MODULE, module_args=module_args, task_vars=task_vars)
        result.update(module_result)
        if result.get('changed') and not self._play_context.check_mode and result.get('changes', True):
            record = dict(time=now_utc(), actor=actor(task_vars), target=task_vars.get('inventory_hostname'),
                          server=display_url(module_args.get('api_url')) or module_args.get('api_socket'),
                          module=self.MODULE, failed=bool(result.get('failed')))
            record.update(self.summary(result))
            result['audit'] = record
            if log:
                try:
                    append(log, record)
                except (IOError, OSError) as exc:
                    result.setdefault('warnings', []).append(
                        'the change was made but could not be recorded in audit_log %s: %s (the record is in the '
                        'returned audit)' % (log, to_native(getattr(exc, 'strerror', None) or exc)))
                    if getattr(exc, 'errno', None) == errno.ENOSPC:
                        result['audit_log_full'] = True
        return result
