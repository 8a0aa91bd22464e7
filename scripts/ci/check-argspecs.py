"""Check that each role's defaults and argument spec describe the same variables.

For every roles/<role>/ this checks, for the ``main`` entry point of
meta/argument_specs.yml against defaults/main.yml:

* every variable in defaults is a documented option (a default nobody can
  find in the docs, or a typo, otherwise goes unnoticed: argument validation
  only checks the options it knows about);
* every option has a default, unless it is ``required: true`` with no
  ``default:`` (the user must supply it, so a default would be a lie);
* a required option does not have a default anyway, and an option whose spec
  states a ``default:`` states the same value as defaults/main.yml (the docs
  generated from the spec must not disagree with what the role does);
* every option, including nested suboptions, has a non-empty description.

Each problem is printed as ``ROLE: VARIABLE: problem`` (``-`` as VARIABLE for
role-level problems); the exit status is 1 if there was any, else 0.

Usage: .venv/bin/python scripts/ci/check-argspecs.py [ROLES_DIR]
(default ROLES_DIR: <repo>/roles; needs PyYAML, hence the venv python)
"""

from __future__ import annotations

import os
import sys

import yaml

ENTRY_POINT = 'main'


def load_yaml(path):
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f)


def first_existing(*paths):
    for path in paths:
        if os.path.exists(path):
            return path
    return None


def load_defaults(role_dir):
    """Return the role's default variables, or None if it cannot be read.

    Ansible accepts defaults/main.yml, defaults/main.yaml, or a defaults/main/
    directory whose files are merged, so all three are handled.
    """
    base = os.path.join(role_dir, 'defaults')
    path = first_existing(os.path.join(base, 'main.yml'), os.path.join(base, 'main.yaml'), os.path.join(base, 'main'))
    if path is None:
        return {}
    files = [path]
    if os.path.isdir(path):
        files = sorted(os.path.join(path, n) for n in os.listdir(path) if n.endswith(('.yml', '.yaml')))
    merged = {}
    for file in files:
        data = load_yaml(file)
        if data is None:
            continue
        if not isinstance(data, dict):
            raise ValueError('%s is not a mapping' % os.path.relpath(file, role_dir))
        merged.update(data)
    return merged


def has_description(spec):
    desc = spec.get('description')
    if isinstance(desc, str):
        return bool(desc.strip())
    if isinstance(desc, list):
        return bool(desc) and all(isinstance(d, str) and d.strip() for d in desc)
    return False


def check_descriptions(options, prefix, report):
    """Report options (recursing into suboptions) without a description."""
    for name, spec in (options or {}).items():
        full = prefix + name
        if not isinstance(spec, dict):
            report(full, 'option spec is not a mapping')
            continue
        if not has_description(spec):
            report(full, 'option has no description')
        if spec.get('options'):
            check_descriptions(spec['options'], full + '.', report)


def check_role(role, role_dir, report):
    def problem(variable, text):
        report('%s: %s: %s' % (role, variable, text))

    spec_path = first_existing(os.path.join(role_dir, 'meta', 'argument_specs.yml'),
                               os.path.join(role_dir, 'meta', 'argument_specs.yaml'))
    if spec_path is None:
        problem('-', 'meta/argument_specs.yml is missing')
        return
    try:
        specs = load_yaml(spec_path) or {}
        defaults = load_defaults(role_dir)
    except (yaml.YAMLError, ValueError, OSError) as ex:
        problem('-', 'cannot read: %s' % str(ex).replace('\n', ' '))
        return

    entry = (specs.get('argument_specs') or {}).get(ENTRY_POINT) if isinstance(specs, dict) else None
    if not isinstance(entry, dict):
        problem('-', 'meta/argument_specs.yml has no argument_specs.%s entry point' % ENTRY_POINT)
        return
    options = entry.get('options') or {}
    if not isinstance(options, dict):
        problem('-', 'argument_specs.%s.options is not a mapping' % ENTRY_POINT)
        return

    for name in sorted(set(defaults) - set(options)):
        problem(name, 'set in defaults/main.yml but not an option in meta/argument_specs.yml')

    for name in sorted(options):
        spec = options[name] if isinstance(options[name], dict) else {}
        required = spec.get('required', False) is True
        if name not in defaults:
            if required and 'default' not in spec:
                continue  # the caller must supply it: nothing to default
            problem(name, 'option in meta/argument_specs.yml but not set in defaults/main.yml')
            continue
        if required:
            problem(name, 'required: true but has a default in defaults/main.yml')
        if 'default' in spec and spec['default'] != defaults[name]:
            problem(name, 'argument spec default %r differs from defaults/main.yml value %r' % (spec['default'], defaults[name]))

    check_descriptions(options, '', problem)


def main(argv):
    if len(argv) > 1:
        roles_dir = argv[1]
    else:
        # scripts/ci/ -> repository root; no dependence on the caller's cwd.
        roles_dir = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'roles'))
    if not os.path.isdir(roles_dir):
        print('check-argspecs: no roles directory at %s' % roles_dir, file=sys.stderr)
        return 2

    problems = []
    for role in sorted(os.listdir(roles_dir)):
        role_dir = os.path.join(roles_dir, role)
        if os.path.isdir(role_dir) and not role.startswith('.'):
            check_role(role, role_dir, problems.append)

    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
