# -*- coding: utf-8 -*-
# Copyright (c) dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Make ``ansible_collections.dhcpops.kea`` importable from a plain checkout.

ansible-test runs the tests from ``.../ansible_collections/dhcpops/kea``;
a plain ``pytest tests/unit`` does not, so at session start we build that
layout in a temp dir with a symlink to the checkout and put it on sys.path.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import sys
import tempfile

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_TEMP_DIRS = []


def _already_importable():
    parts = _REPO_ROOT.split(os.sep)
    return len(parts) >= 3 and parts[-3:-1] == ['ansible_collections', 'dhcpops'] and parts[-1] == 'kea'


def pytest_sessionstart(session):
    if _already_importable():
        top = os.path.dirname(os.path.dirname(os.path.dirname(_REPO_ROOT)))
    else:
        top = tempfile.mkdtemp(prefix='dhcpops-kea-tests-')
        _TEMP_DIRS.append(top)
        namespace = os.path.join(top, 'ansible_collections', 'dhcpops')
        os.makedirs(namespace)
        os.symlink(_REPO_ROOT, os.path.join(namespace, 'kea'))
    if top not in sys.path:
        sys.path.insert(0, top)
    # ansible_collections may already be imported as a namespace package
    # (the ansible package installs one): let it see the new portion.
    module = sys.modules.get('ansible_collections')
    if module is not None and hasattr(module, '__path__'):
        candidate = os.path.join(top, 'ansible_collections')
        if candidate not in list(module.__path__):
            try:
                module.__path__.append(candidate)
            except AttributeError:
                pass


def pytest_sessionfinish(session, exitstatus):
    while _TEMP_DIRS:
        shutil.rmtree(_TEMP_DIRS.pop(), ignore_errors=True)
