# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One client for Kea's control API, shared by every API module.

Three ways in, one answer shape:

- the Kea Control Agent (Kea up to 3.0) over HTTP(S), which routes each
  command to a daemon by the ``service`` list in the body;
- kea-dhcp4's own HTTP(S) control socket (Kea 2.7.2 and later), which needs
  no ``service`` (Kea 3.0.4 accepts one and ignores it, whatever it names);
- kea-dhcp4's unix control socket: plain JSON both ways, no authentication,
  and a bare object as the answer instead of a one-element list.

Kea's result codes are data, not exceptions: "not found" (3) is a normal
answer.  Only a request that got no usable answer at all (refused, timed out,
HTTP error, not JSON) raises :class:`KeaApiError`.  Messages name the URL or
socket and the user, never the password.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import socket
import time
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit, urlunsplit

from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import SSLValidationError, open_url

from ansible_collections.dhcpops.kea.plugins.module_utils.kea_config import (
    SECRET_MASK,
    mask_secrets,
    mask_secrets_in_text,
    parse_kea_json,
)

__all__ = ['KeaApiError', 'KeaAnswer', 'KeaApiClient', 'api_argument_spec', 'client_from_module',
           'load_arguments_file', 'mask_secrets', 'SECRET_MASK', 'RESULT_OUTCOMES']

# Kea's result codes (src/lib/cc/command_interpreter.h).  4 exists from 2.4,
# 5 from 3.0.4.
RESULT_OUTCOMES = {
    0: 'success',
    1: 'error',
    2: 'unsupported',
    3: 'empty',
    4: 'conflict',
    5: 'partial',
}

# Kea closes the unix socket after its answer, but a peer that keeps it open
# must not make us wait for the timeout when the document is already complete.
_RECV_SIZE = 65536

# Options shared by every API module, documented once in the doc fragment
# dhcpops.kea.kea_api.
API_MUTUALLY_EXCLUSIVE = [('api_url', 'api_socket'), ('api_password', 'api_password_file')]
API_REQUIRED_ONE_OF = [('api_url', 'api_socket')]
API_REQUIRED_BY = {'api_password': 'api_user', 'api_password_file': 'api_user'}


def api_argument_spec():
    """The connection options, as an argument_spec fragment (a fresh dict each call)."""
    return dict(
        api_url=dict(type='str'),
        api_socket=dict(type='path'),
        api_service=dict(type='str', default='dhcp4'),
        api_user=dict(type='str'),
        api_password=dict(type='str', no_log=True),
        api_password_file=dict(type='path', no_log=False),
        api_ca_path=dict(type='path'),
        api_client_cert=dict(type='path'),
        api_client_key=dict(type='path', no_log=False),
        api_validate_certs=dict(type='bool', default=True),
        api_timeout=dict(type='int', default=10),
    )


def api_module_kwargs():
    """Keyword arguments for AnsibleModule that tie the connection options together."""
    return dict(
        mutually_exclusive=list(API_MUTUALLY_EXCLUSIVE),
        required_one_of=list(API_REQUIRED_ONE_OF),
        required_by=dict(API_REQUIRED_BY),
    )


def outcome_of(result):
    return RESULT_OUTCOMES.get(result, 'unknown')


def display_url(url):
    """The URL without any user:password@ part, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return '<unparseable URL>'
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ''
    if ':' in host:
        host = '[%s]' % host
    if parts.port:
        host = '%s:%d' % (host, parts.port)
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


class KeaApiError(Exception):
    """No usable answer: transport failure, HTTP error, or a body that is not Kea's JSON."""

    def __init__(self, message, http_status=None, result=None):
        super(KeaApiError, self).__init__(message)
        self.message = message
        self.http_status = http_status
        self.result = result

    @property
    def auth_failed(self):
        return self.http_status in (401, 403)


class KeaAnswer(object):
    """One answer of Kea to one command."""

    __slots__ = ('command', 'result', 'text', 'arguments')

    def __init__(self, command, result, text=None, arguments=None):
        self.command = command
        self.result = result
        self.text = text
        self.arguments = arguments

    @property
    def outcome(self):
        return outcome_of(self.result)

    @property
    def ok(self):
        return self.result == 0

    def as_dict(self, mask=True):
        """The answer as module return values; secrets masked unless told otherwise."""
        arguments = mask_secrets(self.arguments) if mask else self.arguments
        text = mask_secrets_in_text(self.text) if (mask and self.text) else self.text
        return dict(result=self.result, outcome=self.outcome, text=text, arguments=arguments)

    def __repr__(self):
        return 'KeaAnswer(%r, result=%r, text=%r)' % (self.command, self.result, self.text)


def unwrap(document, command, where):
    """Kea answers HTTP with a one-element list and the unix socket with a bare object."""
    if isinstance(document, list):
        if not document:
            raise KeaApiError('%s answered %s with an empty list' % (where, command))
        # The Control Agent answers one element per service; we ask one service.
        document = document[0]
    if not isinstance(document, dict) or 'result' not in document:
        raise KeaApiError('%s answered %s with JSON that is not a Kea answer (no "result"): %s'
                          % (where, command, _preview(json.dumps(document))))
    result = document.get('result')
    if not isinstance(result, int) or isinstance(result, bool):
        raise KeaApiError('%s answered %s with a non-integer result %r' % (where, command, result))
    return KeaAnswer(command, result, document.get('text'), document.get('arguments'))


def _preview(text, limit=300):
    text = mask_secrets_in_text(to_text(text, errors='replace')).strip()
    if len(text) > limit:
        text = text[:limit] + '...'
    return repr(text)


def _reason(exc):
    """A short human reason from a socket/urllib exception."""
    reason = getattr(exc, 'reason', None) or exc
    if isinstance(reason, socket.timeout) or 'timed out' in to_native(reason):
        return 'timed out'
    err = getattr(reason, 'errno', None)
    if err == errno.ECONNREFUSED:
        return 'connection refused'
    text = getattr(reason, 'strerror', None) or to_native(reason)
    return text


class KeaApiClient(object):
    """Sends commands to one Kea server, over HTTP(S) or the unix control socket."""

    def __init__(self, url=None, socket_path=None, service='dhcp4', user=None, password=None,
                 ca_path=None, client_cert=None, client_key=None, validate_certs=True, timeout=10):
        if bool(url) == bool(socket_path):
            raise ValueError('exactly one of url and socket_path is needed')
        if url and urlsplit(url).scheme not in ('http', 'https'):
            raise KeaApiError('api_url %s is not an http:// or https:// URL' % display_url(url))
        self.url = url
        self.socket_path = socket_path
        self.service = service or None
        self.user = user
        self.password = password
        self.ca_path = ca_path
        self.client_cert = client_cert
        self.client_key = client_key
        self.validate_certs = validate_certs
        self.timeout = timeout

    def copy(self, **changes):
        """A client with this one's options but ``changes``: another server's URL and credentials, a timeout.

        A new ``url`` replaces a unix socket: it is another server's HTTP API.
        """
        options = dict(url=self.url, socket_path=self.socket_path, service=self.service, user=self.user,
                       password=self.password, ca_path=self.ca_path, client_cert=self.client_cert,
                       client_key=self.client_key, validate_certs=self.validate_certs, timeout=self.timeout)
        if 'url' in changes:
            options['socket_path'] = None
        options.update(changes)
        return KeaApiClient(**options)

    @property
    def where(self):
        if self.url:
            return 'the Kea API at %s' % display_url(self.url)
        return 'the Kea control socket %s' % self.socket_path

    def body(self, command, arguments=None):
        request = {'command': command}
        # The unix socket belongs to one daemon: no routing, and Kea 2.2's
        # socket would take a service list as an unknown parameter.
        if self.url and self.service:
            request['service'] = [self.service]
        if arguments is not None:
            request['arguments'] = arguments
        return request

    def command(self, command, arguments=None):
        """Send one command; return a KeaAnswer whatever its result code."""
        payload = to_bytes(json.dumps(self.body(command, arguments), separators=(',', ':')))
        if self.url:
            raw = self._post(command, payload)
        else:
            raw = self._unix(command, payload)
        try:
            document = json.loads(to_text(raw, errors='surrogate_or_strict'))
        except ValueError:
            raise KeaApiError('%s answered %s with something that is not JSON: %s'
                              % (self.where, command, _preview(raw)))
        return unwrap(document, command, self.where)

    # -- HTTP(S) ---------------------------------------------------------------

    def _post(self, command, payload):
        kwargs = dict(
            data=payload,
            # Kea 3.0's HTTP sockets answer 400 without it.
            headers={'Content-Type': 'application/json', 'Accept': 'application/json'},
            method='POST',
            timeout=self.timeout,
            validate_certs=self.validate_certs,
            follow_redirects='none',
            use_netrc=False,
            client_cert=self.client_cert,
            client_key=self.client_key,
            ca_path=self.ca_path,
        )
        if self.user:
            # Preemptive: Kea would challenge anyway, and a second round trip
            # per command adds up while polling HA states.
            kwargs.update(url_username=self.user, url_password=self.password or '', force_basic_auth=True)
        try:
            response = open_url(self.url, **kwargs)
            return response.read()
        except HTTPError as exc:
            raise self._http_error(command, exc)
        except SSLValidationError as exc:
            raise KeaApiError('TLS verification of %s failed: %s. Set api_ca_path to the CA that signed Kea\'s '
                              'certificate (api_validate_certs=false only for tests).'
                              % (self.where, _first_line(to_native(exc))))
        except (URLError, UrlsConnectionError, socket.error, socket.timeout) as exc:
            reason = _reason(exc)
            raise KeaApiError('cannot reach %s for %s: %s%s' % (self.where, command, self._transport_reason(reason),
                                                                self._transport_hint(reason)))
        except ValueError as exc:
            # http.client's own errors, e.g. an invalid URL or header.
            raise KeaApiError('cannot send %s to %s: %s' % (command, self.where, to_native(exc)))

    def _transport_reason(self, reason):
        if reason == 'timed out':
            return 'no answer within %d s' % self.timeout
        return reason

    def _transport_hint(self, reason):
        if reason == 'connection refused':
            return ' (is the Control Agent or kea-dhcp4 running and listening there?)'
        if 'CERTIFICATE_VERIFY_FAILED' in reason:
            return ('; set api_ca_path to the CA that signed Kea\'s certificate (api_validate_certs=false only in '
                    'a lab)')
        if 'CERTIFICATE_REQUIRED' in reason:
            return '; Kea requires a client certificate (cert-required): set api_client_cert and api_client_key'
        if 'Remote end closed connection' in reason and self.url.startswith('http:'):
            return ' (an HTTPS socket? then use an https:// URL)'
        return ''

    def _http_error(self, command, exc):
        status = exc.code
        try:
            body = exc.read()
        except Exception:  # pylint: disable=broad-except
            body = b''
        kea_text = ''
        try:
            parsed = json.loads(to_text(body, errors='replace'))
            if isinstance(parsed, list) and parsed:
                parsed = parsed[0]
            if isinstance(parsed, dict) and parsed.get('text'):
                kea_text = to_text(parsed['text'])
        except ValueError:
            kea_text = ''
        if status in (401, 403):
            if self.user:
                msg = '%s refused the credentials of user %s (HTTP %d)' % (self.where, self.user, status)
            else:
                msg = ('%s requires credentials (HTTP %d); set api_user and api_password or api_password_file'
                       % (self.where, status))
        elif status == 400:
            msg = ('%s rejected %s as a bad request (HTTP 400%s); is this a Kea API URL?'
                   % (self.where, command, ': ' + kea_text if kea_text else ''))
        elif status == 500:
            # Seen on Kea 3.0.4 when a hook's handler fails without an answer
            # (ha-maintenance-start in passive-backup mode).
            msg = ('%s failed to produce an answer to %s (HTTP 500%s); kea-dhcp4\'s log says why'
                   % (self.where, command, ': ' + kea_text if kea_text else ''))
        else:
            detail = kea_text or to_native(getattr(exc, 'reason', ''))
            msg = '%s answered %s with HTTP %d %s' % (self.where, command, status, detail)
        return KeaApiError(msg, http_status=status)

    # -- unix socket -----------------------------------------------------------

    def _unix(self, command, payload):
        deadline = time.monotonic() + self.timeout
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            try:
                sock.connect(self.socket_path)
            except socket.timeout:
                raise KeaApiError('cannot connect to %s for %s: no answer within %d s'
                                  % (self.where, command, self.timeout))
            except (OSError, socket.error) as exc:
                raise KeaApiError('cannot connect to %s for %s: %s' % (self.where, command, self._unix_hint(exc)))
            try:
                sock.sendall(payload)
                return self._read_document(sock, command, deadline)
            except socket.timeout:
                raise KeaApiError('%s gave no complete answer to %s within %d s'
                                  % (self.where, command, self.timeout))
            except (OSError, socket.error) as exc:
                raise KeaApiError('%s dropped the connection during %s: %s'
                                  % (self.where, command, getattr(exc, 'strerror', None) or to_native(exc)))
        finally:
            sock.close()

    def _read_document(self, sock, command, deadline):
        chunks = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout()
            sock.settimeout(remaining)
            data = sock.recv(_RECV_SIZE)
            if not data:
                break
            chunks.append(data)
            # Try to parse only when the chunk could close the document.
            if data.rstrip()[-1:] in (b'}', b']'):
                raw = b''.join(chunks)
                try:
                    json.loads(to_text(raw, errors='surrogate_or_strict'))
                    return raw
                except ValueError:
                    continue
        raw = b''.join(chunks)
        if not raw.strip():
            raise KeaApiError('%s closed the connection without answering %s' % (self.where, command))
        return raw

    def _unix_hint(self, exc):
        err = getattr(exc, 'errno', None)
        if err == errno.ENOENT:
            return ('no such socket (is kea-dhcp4 running with a unix control socket at this path? '
                    'Kea 2.4.2+ keeps it in /run/kea)')
        if err == errno.ECONNREFUSED:
            return 'connection refused (a stale socket file: kea-dhcp4 is not running)'
        if err in (errno.EACCES, errno.EPERM):
            return 'permission denied (run as root or as a member of the Kea group: become: true)'
        return getattr(exc, 'strerror', None) or to_native(exc)


def _first_line(text):
    return text.strip().splitlines()[0] if text.strip() else text


def read_password_file(path):
    """A password file as Kea reads its own: surrounding whitespace is not part of it."""
    with open(path, 'rb') as handle:
        return to_text(handle.read(), errors='surrogate_or_strict').strip()


def load_arguments_file(path, option='arguments_file'):
    """A command's arguments from a JSON file on the target (a Kea configuration: comments allowed).

    Raises ValueError with a message naming ``option`` and the path, never the content: such a file is
    read here rather than passed as a variable because it holds secrets.
    """
    try:
        with open(path, 'rb') as handle:
            text = to_text(handle.read(), errors='surrogate_or_strict')
    except (IOError, OSError) as exc:
        raise ValueError('cannot read %s %s: %s' % (option, path, getattr(exc, 'strerror', None) or to_native(exc)))
    except UnicodeError:
        raise ValueError('%s %s is not UTF-8 text' % (option, path))
    parsed = parse_kea_json(text)
    if parsed is None:
        hint = ' (<?include?> directives are not supported)' if '<?include' in text else ''
        raise ValueError('%s %s is not JSON%s' % (option, path, hint))
    if not isinstance(parsed, dict):
        raise ValueError('%s %s holds a JSON %s; Kea wants an object as arguments'
                         % (option, path, type(parsed).__name__))
    return parsed


def password_from_file(module, path, option='api_password_file'):
    """The password in a file on the target, registered with Ansible to be scrubbed; fail the module on a bad file."""
    try:
        password = read_password_file(path)
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot read %s %s: %s%s'
                         % (option, path, getattr(exc, 'strerror', None) or to_native(exc),
                            ' (become: true?)' if getattr(exc, 'errno', None) == errno.EACCES else ''))
    except UnicodeError:
        module.fail_json(msg='%s %s is not UTF-8 text' % (option, path))
    if not password:
        module.fail_json(msg='%s %s is empty' % (option, path))
    # Read from a file, it is no module parameter: tell Ansible to scrub it
    # from everything the module returns.
    module.no_log_values.add(password)
    return password


def client_from_module(module):
    """Build the client from the connection options; fail the module on bad options."""
    p = module.params
    password = p.get('api_password')
    if p.get('api_password_file'):
        # Registered with Ansible to be scrubbed there; api_password is a
        # no_log parameter already.
        password = password_from_file(module, p['api_password_file'])
    for option in ('api_ca_path', 'api_client_cert', 'api_client_key'):
        if p.get(option) and not _readable(p[option]):
            module.fail_json(msg='%s %s does not exist or is not readable' % (option, p[option]))
    if p.get('api_timeout') is not None and p['api_timeout'] <= 0:
        module.fail_json(msg='api_timeout must be a positive number of seconds')
    try:
        return KeaApiClient(
            url=p.get('api_url'), socket_path=p.get('api_socket'), service=p.get('api_service'),
            user=p.get('api_user'), password=password, ca_path=p.get('api_ca_path'),
            client_cert=p.get('api_client_cert'), client_key=p.get('api_client_key'),
            validate_certs=p.get('api_validate_certs', True), timeout=p.get('api_timeout') or 10,
        )
    except KeaApiError as exc:
        module.fail_json(msg=exc.message)


def _readable(path):
    try:
        with open(path, 'rb'):
            return True
    except (IOError, OSError):
        return False
