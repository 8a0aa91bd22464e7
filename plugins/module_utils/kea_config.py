# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build, render and redact kea-dhcp4 configurations.

The builder turns the collection's data model (Kea's own ``subnet4`` syntax
plus a few role-level settings) into one complete ``Dhcp4`` document.  It
never mutates its inputs and never deep-copies them either: large sites carry
tens of thousands of reservations, and copying them would cost more than the
whole lint.

The renderer is deterministic (same data, byte-identical file) and puts each
reservation, pool and option on a line of its own, so that a diff of two
configurations reads as "this host was added" rather than as a wall of
brackets.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

SECRET_MASK = '********'

# Lists whose elements are short records: one element per line keeps diffs
# readable and lets the renderer use json's C encoder for the bulk of a file.
INLINE_LIST_KEYS = frozenset([
    'reservations', 'pools', 'option-data', 'option-def', 'peers', 'clients',
    'relay', 'ip-addresses', 'interfaces', 'require-client-classes',
    'evaluate-additional-classes', 'client-classes', 'high-availability-servers',
])

# Keys the linter and Kea know; kept here only to spot the YAML traps below.
IDENTIFIER_KEYS = ('hw-address', 'client-id', 'duid', 'circuit-id', 'flex-id')

RESERVATION_FILE_KEYS = frozenset(['subnets', 'reservations'])
RESERVATION_FILE_SUBNET_KEYS = frozenset(['id', 'subnet', 'reservations', 'comment'])


class ModelError(Exception):
    """Bad input: the message names what is wrong and where."""


def parse_version(text):
    """'2.2.0' -> (2, 2, 0); None or '' -> None."""
    if not text:
        return None
    nums = re.findall(r'\d+', str(text))
    if not nums:
        raise ModelError("kea_version %r is not a version such as '2.6.3'" % (text,))
    return tuple(int(n) for n in (nums + ['0', '0'])[:3])


def bare_hook_names_work(version):
    """Kea resolves hook libraries by bare file name from 2.4.2 and 2.6.3 on."""
    if version is None:
        return False
    return (2, 4, 2) <= version < (2, 5, 0) or version >= (2, 6, 3)


def logger_options_key(version):
    """2.2 and 2.4 accept only ``output_options``; later releases spell it ``output-options``."""
    if version is not None and version < (2, 5, 0):
        return 'output_options'
    return 'output-options'


def _describe_subnet(subnet):
    return '%s' % (subnet.get('subnet', '?'),)


def _require_list(value, where):
    if value is None:
        return []
    if not isinstance(value, list):
        raise ModelError('%s must be a list, got %s' % (where, type(value).__name__))
    return value


def _require_dict(value, where):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ModelError('%s must be a mapping, got %s' % (where, type(value).__name__))
    return value


def _check_identifiers(reservation, where):
    """Catch YAML 1.1 reading an unquoted MAC such as 10:20:30:40:50:55 as a base-60 integer."""
    for key in IDENTIFIER_KEYS:
        value = reservation.get(key)
        if value is not None and not isinstance(value, str):
            raise ModelError(
                '%s: %s was read as %s %r, not as text; quote it in YAML '
                '(YAML 1.1 reads an unquoted 10:20:30:40:50:55 as a base-60 number)'
                % (where, key, type(value).__name__, value))
    ip = reservation.get('ip-address')
    if ip is not None and not isinstance(ip, str):
        raise ModelError('%s: ip-address must be text such as "192.0.2.10", got %r' % (where, ip))


class SourceMap(dict):
    """Where each subnet and reservation came from, for the linter's messages.

    Reservations read from a file are recorded as one index range per file and
    subnet, not one entry each: a large site has tens of thousands of them and
    only the few named in a finding are ever looked up.
    """

    def __init__(self):
        super(SourceMap, self).__init__()
        self._ranges = {}

    def add_range(self, subnet_id, start, end, source):
        if end > start:
            self._ranges.setdefault(subnet_id, []).append((start, end, source))

    def get(self, key, default=None):
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        if isinstance(key, tuple) and len(key) == 3 and key[0] == 'reservation':
            for start, end, source in self._ranges.get(key[1], ()):
                if start <= key[2] < end:
                    return source
        return default

    def __getitem__(self, key):
        value = self.get(key, KeyError)
        if value is KeyError:
            raise KeyError(key)
        return value


def _subnet_ids(subnets, label):
    """Map subnet id -> (subnet dict, position) and reject missing or non-integer ids."""
    by_id = {}
    for index, subnet in enumerate(subnets):
        where = '%s[%d]' % (label, index)
        if not isinstance(subnet, dict):
            raise ModelError('%s must be a mapping in Kea subnet4 syntax, got %s' % (where, type(subnet).__name__))
        if 'id' not in subnet:
            raise ModelError(
                "%s (subnet %s) has no 'id': give every subnet an explicit id that never changes, "
                "because Kea ties leases to subnet ids and ids that shift orphan leases"
                % (where, _describe_subnet(subnet)))
        subnet_id = subnet['id']
        if isinstance(subnet_id, bool) or not isinstance(subnet_id, int) or not 0 < subnet_id < 4294967295:
            raise ModelError('%s (subnet %s): id must be an integer from 1 to 4294967294, got %r'
                             % (where, _describe_subnet(subnet), subnet_id))
        if 'subnet' not in subnet or not isinstance(subnet['subnet'], str):
            raise ModelError("%s (id %s) needs 'subnet' as a prefix such as \"192.0.2.0/24\"" % (where, subnet_id))
        if subnet_id in by_id:
            other = by_id[subnet_id]
            raise ModelError('%s (subnet %s) reuses id %d of %s[%d] (subnet %s); subnet ids must be unique'
                             % (where, subnet['subnet'], subnet_id, label, other[1], other[0]['subnet']))
        by_id[subnet_id] = (subnet, index)
    return by_id


def file_subnet_entries(source, data):
    """(where, entry) of each ``subnets`` entry of a reservations file, its keys checked.

    The one reading of the file format, shared by the configuration path
    (merge_reservation_sets) and the API path (the kea_reservations action).
    """
    data = _require_dict(data, source)
    unknown = sorted(set(data) - RESERVATION_FILE_KEYS)
    if unknown:
        raise ModelError("%s: unknown top-level key(s) %s; a reservations file holds 'subnets' "
                         "(a list of {id, reservations}) and optionally global 'reservations'"
                         % (source, ', '.join(unknown)))
    out = []
    for s_index, entry in enumerate(_require_list(data.get('subnets'), '%s: subnets' % source)):
        where = '%s: subnets[%d]' % (source, s_index)
        entry = _require_dict(entry, where)
        unknown = sorted(set(entry) - RESERVATION_FILE_SUBNET_KEYS)
        if unknown:
            raise ModelError('%s: unknown key(s) %s (allowed: id, subnet, reservations, comment)'
                             % (where, ', '.join(unknown)))
        out.append((where, entry))
    return out


def merge_reservation_sets(subnets, reservation_sets, label='subnets'):
    """Return new subnet dicts with reservations from files appended, and the source map.

    ``reservation_sets`` is a list of ``(source_name, data)`` where data is
    ``{"subnets": [{"id": N, "reservations": [...]}], "reservations": [...]}``
    (the second key holds global reservations).  Sources are returned as
    ``{("subnet", id): str, ("reservation", id, index): str}`` for the linter,
    and global reservations under ``("reservation", None, index)``.
    """
    subnets = _require_list(subnets, label)
    by_id = _subnet_ids(subnets, label)
    sources = SourceMap()
    merged = {}
    for subnet_id, (subnet, index) in by_id.items():
        sources[('subnet', subnet_id)] = '%s[%d]' % (label, index)
        inline = _require_list(subnet.get('reservations'), '%s[%d].reservations' % (label, index))
        for r_index, reservation in enumerate(inline):
            where = '%s[%d].reservations[%d]' % (label, index, r_index)
            if not isinstance(reservation, dict):
                raise ModelError('%s must be a mapping' % where)
            _check_identifiers(reservation, where)
            sources[('reservation', subnet_id, r_index)] = where
        merged[subnet_id] = list(inline)

    global_reservations = []
    for source, data in reservation_sets or []:
        data = _require_dict(data, source)
        for where, entry in file_subnet_entries(source, data):
            subnet_id = entry.get('id')
            if subnet_id not in by_id:
                raise ModelError('%s names subnet id %r, which no subnet in %s has; reservations '
                                 'attach to subnets by their stable id' % (where, subnet_id, label))
            if 'subnet' in entry and entry['subnet'] != by_id[subnet_id][0]['subnet']:
                raise ModelError('%s says subnet id %d is %s, but %s[%d] defines it as %s'
                                 % (where, subnet_id, entry['subnet'], label, by_id[subnet_id][1],
                                    by_id[subnet_id][0]['subnet']))
            # The records themselves are checked by the linter, in its one
            # pass over every reservation (types included: a MAC that YAML
            # read as a number is a finding there).
            target = merged[subnet_id]
            start = len(target)
            target.extend(_require_list(entry.get('reservations'), where + '.reservations'))
            sources.add_range(subnet_id, start, len(target), source)
        start = len(global_reservations)
        global_reservations.extend(_require_list(data.get('reservations'), '%s: reservations' % source))
        sources.add_range(None, start, len(global_reservations), source)

    out = []
    for subnet in subnets:
        new = dict(subnet)
        reservations = normalise_hw_addresses(merged[subnet['id']])
        if reservations:
            new['reservations'] = reservations
        else:
            new.pop('reservations', None)
        out.append(new)
    return out, normalise_hw_addresses(global_reservations), sources


# A MAC as switches and inventories print it: colons, dashes, dots between
# groups of four, or nothing. Kea 2.2 refuses all but colons (and bare hex),
# so reservations are written the one way every release reads, and the
# linter compares them the same way.
_MAC = re.compile(r'^(?:[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}'
                  r'|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}|[0-9A-Fa-f]{12})$')


def normalise_hw_addresses(reservations):
    """The reservations with every MAC-shaped hw-address as lower-case hex joined by colons."""
    out = []
    for reservation in reservations:
        value = reservation.get('hw-address') if isinstance(reservation, dict) else None
        if isinstance(value, str) and _MAC.match(value.strip()):
            digits = re.sub(r'[:.-]', '', value.strip()).lower()
            canonical = ':'.join(digits[i:i + 2] for i in range(0, 12, 2))
            if canonical != value:
                reservation = dict(reservation)
                reservation['hw-address'] = canonical
        out.append(reservation)
    return out


def _resolve_library(library, version, hooks_dir):
    if '/' in library or not hooks_dir:
        if '/' not in library and not bare_hook_names_work(version):
            raise ModelError('hook library %r is a bare file name, which Kea %s cannot load; '
                             'set hooks_dir (the directory of Kea hook libraries) or give a full path'
                             % (library, '.'.join(str(v) for v in version) if version else '(unknown version)'))
        return library
    return hooks_dir.rstrip('/') + '/' + library


def _hook_basename(library):
    return library.rsplit('/', 1)[-1]


# Kea 3.0 moved the database backends into hook libraries.  `kea-dhcp4 -t`
# accepts a postgresql lease-database without the hook (it opens no database),
# but the daemon then fails at start, so the builder loads it itself.
DB_BACKEND_HOOKS = {'postgresql': 'libdhcp_pgsql.so', 'mysql': 'libdhcp_mysql.so'}


def backend_hooks(databases, version):
    if version is None or version < (3, 0, 0):
        return []
    needed = []
    for database in databases:
        hook = DB_BACKEND_HOOKS.get((database or {}).get('type'))
        if hook and hook not in needed:
            needed.append(hook)
    return needed


def build_hooks(hooks_libraries, ha, version, hooks_dir, databases=()):
    """Database backends, user hooks, then what HA needs (lease_cmds before ha), without duplicates."""
    hooks = []
    seen = {}
    for library in backend_hooks(databases, version):
        if not any(_hook_basename(h if isinstance(h, str) else (h or {}).get('library', '')) == library
                   for h in hooks_libraries or []):
            hooks.append({'library': _resolve_library(library, version, hooks_dir)})
    for index, hook in enumerate(_require_list(hooks_libraries, 'hooks_libraries')):
        if isinstance(hook, str):
            hook = {'library': hook}
        if not isinstance(hook, dict) or not isinstance(hook.get('library'), str):
            raise ModelError("hooks_libraries[%d] must be a mapping with 'library'" % index)
        new = dict(hook)
        new['library'] = _resolve_library(hook['library'], version, hooks_dir)
        base = _hook_basename(new['library'])
        if base in seen:
            raise ModelError('hooks_libraries lists %s twice (entries %d and %d)' % (base, seen[base], index))
        seen[base] = index
        hooks.append(new)
    if ha:
        ha = _require_dict(ha, 'ha')
        relationships = ha if isinstance(ha.get('high-availability'), list) else {'high-availability': [ha]}
        if 'libdhcp_lease_cmds.so' not in seen:
            hooks.append({'library': _resolve_library('libdhcp_lease_cmds.so', version, hooks_dir)})
        if 'libdhcp_ha.so' in seen:
            raise ModelError("libdhcp_ha.so is in hooks_libraries and 'ha' is set too; use 'ha' only")
        hooks.append({'library': _resolve_library('libdhcp_ha.so', version, hooks_dir),
                      'parameters': relationships})
    return hooks


def normalise_loggers(loggers, version):
    key = logger_options_key(version)
    other = 'output_options' if key == 'output-options' else 'output-options'
    out = []
    for index, logger in enumerate(_require_list(loggers, 'loggers')):
        if not isinstance(logger, dict):
            raise ModelError('loggers[%d] must be a mapping' % index)
        new = dict(logger)
        if other in new:
            if key in new:
                raise ModelError('loggers[%d] has both output-options and output_options' % index)
            new[key] = new.pop(other)
        out.append(new)
    return out


def deep_merge(base, overlay):
    """Mappings merge key by key; anything else in ``overlay`` replaces ``base``."""
    if not isinstance(base, dict) or not isinstance(overlay, dict):
        return overlay
    out = dict(base)
    for key, value in overlay.items():
        out[key] = deep_merge(base[key], value) if key in base else value
    return out


def build_dhcp4(spec):
    """Build ``({"Dhcp4": {...}}, sources)`` from the data model.

    ``spec`` keys (all optional but subnets): kea_version, hooks_dir,
    interfaces, subnets, subnets_label, reservation_sets, option_data,
    globals, lease_database, hosts_database, control_socket,
    control_sockets, hooks_libraries, ha, loggers, raw.
    """
    version = parse_version(spec.get('kea_version'))
    label = spec.get('subnets_label') or 'subnets'
    subnets, global_reservations, sources = merge_reservation_sets(
        spec.get('subnets'), spec.get('reservation_sets'), label)

    dhcp4 = dict(_require_dict(spec.get('globals'), 'globals'))
    if 'subnet4' in dhcp4 or 'hooks-libraries' in dhcp4:
        raise ModelError("globals must not carry 'subnet4' or 'hooks-libraries'; use subnets and hooks_libraries")

    interfaces = spec.get('interfaces')
    if interfaces is not None:
        iface_cfg = dict(_require_dict(dhcp4.get('interfaces-config'), 'globals.interfaces-config'))
        iface_cfg['interfaces'] = list(_require_list(interfaces, 'interfaces'))
        dhcp4['interfaces-config'] = iface_cfg

    for key, option in (('lease-database', 'lease_database'), ('hosts-database', 'hosts_database'),
                        ('control-socket', 'control_socket')):
        value = spec.get(option)
        if value:
            dhcp4[key] = _require_dict(value, option)

    control_sockets = _require_list(spec.get('control_sockets'), 'control_sockets')
    if control_sockets:
        if version is not None and version < (2, 7, 2):
            raise ModelError('control_sockets (HTTP control sockets in kea-dhcp4 itself) need Kea 2.7.2 or '
                             'later; Kea %s uses control_socket with the control agent'
                             % '.'.join(str(v) for v in version))
        dhcp4['control-sockets'] = control_sockets

    option_data = _require_list(spec.get('option_data'), 'option_data')
    if option_data:
        dhcp4['option-data'] = option_data

    if global_reservations:
        dhcp4['reservations'] = list(_require_list(dhcp4.get('reservations'), 'globals.reservations')) + \
            global_reservations

    dhcp4['subnet4'] = subnets

    hooks = build_hooks(spec.get('hooks_libraries'), spec.get('ha'), version, spec.get('hooks_dir'),
                        (spec.get('lease_database'), spec.get('hosts_database')))
    if hooks:
        dhcp4['hooks-libraries'] = hooks

    loggers = normalise_loggers(spec.get('loggers'), version)
    if loggers:
        dhcp4['loggers'] = loggers

    raw = _require_dict(spec.get('raw'), 'raw')
    if raw:
        dhcp4 = deep_merge(dhcp4, raw.get('Dhcp4', raw))
    return {'Dhcp4': dhcp4}, sources


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------

_INLINE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(', ', ': '))
_SCALAR = json.JSONEncoder(ensure_ascii=False)

try:
    from json.encoder import c_make_encoder as _c_make_encoder, encode_basestring as _encode_basestring
except ImportError:  # pragma: no cover - interpreters without the C accelerator
    _c_make_encoder = None


def _inline_encoder():
    """One C encoder reused for every record.

    ``JSONEncoder.encode`` builds a new C encoder per call, which is half the
    cost of rendering 50,000 reservations; the output is identical.
    """
    if _c_make_encoder is None:
        return _INLINE.encode
    encoder = _c_make_encoder({}, _INLINE.default, _encode_basestring, None, ': ', ', ', True, False, True)

    def encode(value):
        return ''.join(encoder(value, 0))
    return encode


_encode_inline = _inline_encoder()


def _render(value, indent, out, inline_children):
    pad = '  ' * indent
    if isinstance(value, dict):
        if not value:
            out.append('{}')
            return
        out.append('{\n')
        keys = sorted(value)
        for pos, key in enumerate(keys):
            out.append('%s  %s: ' % (pad, _SCALAR.encode(key)))
            _render(value[key], indent + 1, out, key in INLINE_LIST_KEYS)
            out.append(',\n' if pos < len(keys) - 1 else '\n')
        out.append(pad + '}')
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append('[]')
            return
        if all(not isinstance(item, (dict, list, tuple)) for item in value):
            out.append(_INLINE.encode(list(value)))
            return
        out.append('[\n')
        if inline_children:
            # The bulk of a large file: one C-encoder call per record, joined once.
            out.append(pad + '  ')
            out.append((',\n' + pad + '  ').join(map(_encode_inline, value)))
            out.append('\n' + pad + ']')
            return
        last = len(value) - 1
        for pos, item in enumerate(value):
            out.append(pad + '  ')
            _render(item, indent + 1, out, False)
            out.append(',\n' if pos < last else '\n')
        out.append(pad + ']')
    else:
        out.append(_SCALAR.encode(value))


def render(config):
    """Serialise a configuration deterministically, ending with a newline."""
    out = []
    _render(config, 0, out, False)
    out.append('\n')
    return ''.join(out)


# --------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------

def is_secret_key(key):
    key = str(key).lower()
    return ('password' in key and not key.endswith('-file')) or key in ('secret', 'token', 'server-token')


def mask_secrets(value):
    """Return a copy with every password-like value replaced by a fixed mask."""
    if isinstance(value, dict):
        return dict((k, SECRET_MASK if is_secret_key(k) and v not in (None, '') else mask_secrets(v))
                    for k, v in value.items())
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


_SECRET_TEXT = re.compile(r'("[^"\n]*(?:password|secret|token)[^"\n]*"\s*:\s*)"(?:[^"\\\n]|\\.)*"', re.IGNORECASE)


def mask_secrets_in_text(text):
    """Best-effort redaction for files that are not valid JSON (hand-edited, with includes)."""
    return _SECRET_TEXT.sub(lambda m: m.group(1) + '"' + SECRET_MASK + '"'
                            if not m.group(1).lower().split(':')[0].rstrip().rstrip('"').endswith('-file')
                            else m.group(0), text)


def strip_comments(text):
    """Remove Kea's comment forms (#, //, /* */) outside strings."""
    out = []
    i = 0
    n = len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == '\\' and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_string = False
            i += 1
            continue
        if ch == '"':
            in_string = True
            out.append(ch)
            i += 1
        elif ch == '#' or text.startswith('//', i):
            end = text.find('\n', i)
            i = n if end < 0 else end
        elif text.startswith('/*', i):
            end = text.find('*/', i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(ch)
            i += 1
    return ''.join(out)


def parse_kea_json(text):
    """Parse a Kea config file (comments allowed).  Returns None when it is not plain JSON."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return json.loads(strip_comments(text))
    except ValueError:
        return None


def redacted_view(text):
    """The text a diff shows for a config file: canonical and masked when parseable."""
    if text is None:
        return ''
    parsed = parse_kea_json(text)
    if parsed is None:
        return mask_secrets_in_text(text)
    return render(mask_secrets(parsed))
