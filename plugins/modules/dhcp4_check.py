#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: dhcp4_check
short_description: Run Kea's own configuration check on files, locally or in a throwaway container
version_added: "0.1.0"
author:
  - dhcpops.kea maintainers (@dhcpops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
description:
  - Runs C(kea-dhcp4 -t) on one or more rendered configuration files and reports, per file, whether Kea accepts it
    and Kea's own reason when it does not.
  - With O(method=podman), all files are checked in one throwaway container of an image that carries the Kea
    release the servers run, so a CI job checks against the right Kea without touching any server. The container
    has no network; for every interface a file names, a dummy interface of that name is created first, because
    C(kea-dhcp4 -t) refuses interfaces that do not exist.
  - Used by the C(dhcpops.kea.validate) playbook; it changes nothing.
options:
  paths:
    description: Configuration files to check, on the host the module runs on.
    type: list
    elements: path
    required: true
  method:
    description: Where Kea runs. V(local) uses O(command) on this host; V(podman) runs it in O(image).
    type: str
    choices: [local, podman]
    default: local
  image:
    description: Image with C(kea-dhcp4) and C(python3), for O(method=podman).
    type: str
  command:
    description: The check command; the file path is appended.
    type: list
    elements: str
    default: [kea-dhcp4, -t]
  create_interfaces:
    description: With O(method=podman), create dummy interfaces named like the configuration's interfaces first.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: It only reads; it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
'''

EXAMPLES = r'''
- name: Check rendered files with the Kea 2.2.0 of Debian 12, in a container
  dhcpops.kea.dhcp4_check:
    paths:
      - out/kea1.json
      - out/kea2.json
    method: podman
    image: localhost/dhcpops-kea-check:bookworm
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
results:
  description: One entry per file.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file.
      type: str
    rc:
      description: Exit status of the check (0 accepted).
      type: int
    reason:
      description: Kea's own reason for rejecting the file (its standard error), empty when accepted.
      type: str
    log_tail:
      description: The last lines Kea logged.
      type: str
failed_paths:
  description: Files Kea rejected.
  returned: always
  type: list
  elements: str
'''

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

MOUNT_ROOT = '/etc/kea/dhcpops-src'

# Runs inside the container, as root, once for all files, and prints one JSON
# document.  It recreates what `kea-dhcp4 -t` looks at on a real Debian host:
# - the file under /etc/kea (AppArmor), root:<kea group> 0640, read by the Kea
#   user, as the daemon reads it;
# - the interfaces the file names (interfaces-config and subnet "interface"),
#   with their addresses: -t refuses interfaces that do not exist. dummy where
#   the kernel has it, a veth pair otherwise (the container cannot load modules);
# - Kea's directories at 0750 (3.0 refuses a more open socket directory);
# - basic-auth password/user files, which Kea 3.0's -t insists on reading but
#   which are deployed secrets on the target: a placeholder stands in.
IN_CONTAINER = r"""
import grp, json, os, pwd, shutil, subprocess, sys
command, create, files = json.loads(sys.argv[1])
user = next((u for u in ("_kea", "kea") if u in {p.pw_name for p in pwd.getpwall()}), None)
gid = grp.getgrnam(user).gr_gid if user else 0
for d in ("/run/kea", "/var/lib/kea", "/var/log/kea"):
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o750)
    if user:
        shutil.chown(d, user, user)
os.makedirs("/etc/kea/dhcpops-check", exist_ok=True)
made, results = set(), []

def walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)

def interface(entry):
    name, _, addr = entry.partition("/")
    if name in ("*", "") or name in made:
        return
    made.add(name)
    if subprocess.call(["ip", "link", "add", name, "type", "dummy"], stderr=subprocess.DEVNULL):
        subprocess.call(["ip", "link", "add", name, "type", "veth", "peer", "name", "chk%d" % len(made)])
    subprocess.call(["ip", "link", "set", name, "up"])
    if addr:
        subprocess.call(["ip", "addr", "add", addr + "/32", "dev", name])

for index, path in enumerate(files):
    target = "/etc/kea/dhcpops-check/%d-%s" % (index, os.path.basename(path))
    shutil.copyfile(path, target)
    os.chown(target, 0, gid)
    os.chmod(target, 0o640)
    try:
        with open(target) as handle:
            dhcp4 = json.load(handle).get("Dhcp4", {})
    except (OSError, ValueError):
        dhcp4 = {}
    if create:
        for entry in dhcp4.get("interfaces-config", {}).get("interfaces", []):
            interface(entry)
        for node in walk(dhcp4.get("subnet4", []) + dhcp4.get("shared-networks", [])):
            if isinstance(node.get("interface"), str):
                interface(node["interface"])
    for node in walk(dhcp4):
        auth = node.get("authentication")
        if not isinstance(auth, dict):
            continue
        base = auth.get("directory") or "/"
        for client in auth.get("clients") or []:
            for key in ("password-file", "user-file"):
                name = client.get(key) if isinstance(client, dict) else None
                secret = os.path.join(base, name) if name else None
                if secret and not os.path.exists(secret):
                    with open(secret, "w") as handle:
                        handle.write("placeholder")
                    os.chown(secret, 0, gid)
                    os.chmod(secret, 0o640)
    argv = command + [target]
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    results.append({"rc": proc.returncode, "stderr": proc.stderr.replace(target, path),
                    "stdout": proc.stdout[-4000:]})
print(json.dumps(results))
"""


def summarise(path, rc, stderr, stdout):
    lines = to_text(stdout).rstrip().splitlines()
    reason = to_text(stderr).strip()
    if rc != 0 and not reason:
        errors = [line for line in lines if ' ERROR ' in line or ' FATAL ' in line]
        reason = (errors or lines or ['exit status %d' % rc])[-1]
    return dict(path=path, rc=rc, reason=reason if rc else '', log_tail='\n'.join(lines[-10:]))


def check_local(module, paths):
    results = []
    for path in paths:
        rc, out, err = module.run_command(module.params['command'] + [path])
        results.append(summarise(path, rc, err, out))
    return results


def check_podman(module, paths):
    podman = module.get_bin_path('podman', required=True)
    if not module.params['image']:
        module.fail_json(msg='method=podman needs image: an image with the Kea release the servers run')
    mounts = {}
    inside = []
    for path in paths:
        directory = os.path.dirname(os.path.abspath(path))
        if directory not in mounts:
            mounts[directory] = '%s/%d' % (MOUNT_ROOT, len(mounts))
        inside.append('%s/%s' % (mounts[directory], os.path.basename(path)))
    argv = [podman, 'run', '--rm', '--network', 'none', '--cap-add', 'NET_ADMIN']
    for directory, target in sorted(mounts.items()):
        argv += ['--volume', '%s:%s:ro,Z' % (directory, target)]
    payload = json.dumps([module.params['command'], module.params['create_interfaces'], inside])
    argv += [module.params['image'], 'python3', '-c', IN_CONTAINER, payload]
    rc, out, err = module.run_command(argv)
    try:
        raw = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        module.fail_json(msg='the check container did not run: %s' % (to_text(err).strip() or to_text(out).strip()),
                         rc=rc, cmd=argv[:-2])
    # Kea names the file it read; name the caller's file instead.
    return [summarise(path, item['rc'], item['stderr'].replace(inner, path), item['stdout'])
            for path, inner, item in zip(paths, inside, raw)]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type='list', elements='path', required=True),
            method=dict(type='str', choices=['local', 'podman'], default='local'),
            image=dict(type='str'),
            command=dict(type='list', elements='str', default=['kea-dhcp4', '-t']),
            create_interfaces=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    paths = module.params['paths']
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        module.fail_json(msg='no such file: %s' % ', '.join(missing))
    if module.params['method'] == 'podman':
        results = check_podman(module, paths)
    else:
        results = check_local(module, paths)
    failed = [r for r in results if r['rc'] != 0]
    out = dict(changed=False, results=results, failed_paths=[r['path'] for r in failed])
    if failed:
        module.fail_json(msg='Kea rejected %d of %d configuration(s):\n%s' % (
            len(failed), len(results), '\n'.join(' - %s: %s' % (r['path'], r['reason']) for r in failed)), **out)
    module.exit_json(**out)


if __name__ == '__main__':
    main()
