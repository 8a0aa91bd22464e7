# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stand-ins for Kea's control API that the real client talks to over real sockets.

``http_server()`` is an http.server on 127.0.0.1 (random port) in a thread;
``unix_server()`` a unix stream socket in a temp dir. Each hands every parsed
request to a responder and logs it, so tests drive the real client code,
urllib and all, and can see exactly what went over the wire.

The canned answers come from Debian's Kea 2.2.0 (Control Agent) and 3.0.4
(kea-dhcp4's own HTTP socket), recorded in the lab.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import contextlib
import copy
import json
import os
import shutil
import socket
import tempfile
import threading
import time

import pytest

from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn

from ansible.module_utils import basic

try:  # ansible-core 2.19+ wants a serialization profile with the arguments.
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # older ansible-core reads the bare JSON
    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode('utf-8')
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


def reply(result=0, text=None, arguments=None):
    answer = {'result': result}
    if text is not None:
        answer['text'] = text
    if arguments is not None:
        answer['arguments'] = arguments
    return answer


class Raw(object):
    """A responder's way to send an exact HTTP status and body (not a Kea answer)."""

    def __init__(self, body, status=200, delay=0.0):
        self.body = body if isinstance(body, bytes) else body.encode('utf-8')
        self.status = status
        self.delay = delay


class Request(object):
    def __init__(self, body, headers=None):
        # headers: names in lower case
        self.body = body
        self.headers = headers or {}

    @property
    def command(self):
        return self.body.get('command') if isinstance(self.body, dict) else None

    @property
    def credentials(self):
        """(user, password) of a basic Authorization header, or None."""
        value = self.headers.get('authorization', '')
        if not value.startswith('Basic '):
            return None
        user, dummy, password = base64.b64decode(value[6:]).decode('utf-8').partition(':')
        return user, password


class FakeKea(object):
    """What the fake server answers: a responder(Request) returning a Kea answer dict, a list, or Raw."""

    def __init__(self, responder=None):
        self.responder = responder or (lambda request: reply(0, arguments={'pid': 1}))
        self.requests = []
        self.lock = threading.Lock()
        self.url = None
        self.path = None

    def answer(self, request):
        with self.lock:
            self.requests.append(request)
        return self.responder(request)

    @property
    def commands(self):
        return [r.command for r in self.requests]


class _ThreadingHTTPServer(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that gave up (the timeout tests) is expected, not news.
        pass


def _http_handler(fake, auth):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'
        # Headers and body go out in two writes: without this, Nagle and
        # delayed ACKs add 40 ms to every request.
        disable_nagle_algorithm = True

        def log_message(self, *args):  # keep pytest output clean
            pass

        def _send(self, status, body, content_type='application/json'):
            self.send_response(status)
            self.send_header('Content-Type', content_type)
            self.send_header('Content-Length', str(len(body)))
            if status == 401:
                self.send_header('WWW-Authenticate', 'Basic realm="kea"')
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get('Content-Length') or 0)
            raw = self.rfile.read(length)
            headers = dict((k.lower(), v) for k, v in self.headers.items())
            try:
                body = json.loads(raw.decode('utf-8'))
            except ValueError:
                body = raw
            request = Request(body, headers)
            # Like Kea 3.0: no JSON content type, no service.
            if headers.get('content-type') != 'application/json':
                fake.answer(request)
                return self._send(400, b'{ "result": 400, "text": "Bad Request" }')
            if auth is not None and request.credentials != auth:
                fake.answer(request)
                return self._send(401, b'{ "result": 401, "text": "Unauthorized" }')
            answer = fake.answer(request)
            if isinstance(answer, Raw):
                if answer.delay:
                    time.sleep(answer.delay)
                return self._send(answer.status, answer.body)
            # Kea's HTTP answers are one-element lists.
            if isinstance(answer, dict):
                answer = [answer]
            return self._send(200, json.dumps(answer).encode('utf-8'))

    return Handler


@contextlib.contextmanager
def http_server(responder=None, auth=None):
    """A Kea-like HTTP API on 127.0.0.1; auth=(user, password) makes it demand basic auth."""
    fake = FakeKea(responder)
    server = _ThreadingHTTPServer(('127.0.0.1', 0), _http_handler(fake, auth))
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05})
    thread.daemon = True
    thread.start()
    fake.url = 'http://127.0.0.1:%d/' % server.server_address[1]
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class UnixBehaviour(object):
    """How the unix fake delivers its answer: in chunks, held open, or never."""

    def __init__(self, chunk=None, chunk_delay=0.0, keep_open=False, never_answer=False, truncate=False):
        self.chunk = chunk
        self.chunk_delay = chunk_delay
        self.keep_open = keep_open
        self.never_answer = never_answer
        self.truncate = truncate


def _serve_unix(listener, fake, behaviour, stop):
    listener.settimeout(0.05)
    while not stop.is_set():
        try:
            conn, dummy = listener.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        threading.Thread(target=_unix_connection, args=(conn, fake, behaviour, stop)).start()


def _unix_connection(conn, fake, behaviour, stop):
    try:
        conn.settimeout(5)
        data = b''
        body = None
        while body is None:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
            try:
                body = json.loads(data.decode('utf-8'))
            except ValueError:
                continue
        answer = fake.answer(Request(body))
        if behaviour.never_answer:
            stop.wait(10)
            return
        # Kea's unix socket answers with a bare object.
        if isinstance(answer, Raw):
            payload = answer.body
        else:
            payload = json.dumps(answer, indent=1).encode('utf-8')
        if behaviour.truncate:
            payload = payload[:len(payload) // 2]
        size = behaviour.chunk or len(payload)
        for start in range(0, len(payload), size):
            conn.sendall(payload[start:start + size])
            if behaviour.chunk_delay:
                time.sleep(behaviour.chunk_delay)
        if behaviour.keep_open:
            stop.wait(10)
    finally:
        conn.close()


@contextlib.contextmanager
def unix_server(responder=None, behaviour=None):
    """A Kea-like unix control socket in a fresh temp dir."""
    fake = FakeKea(responder)
    directory = tempfile.mkdtemp(prefix='kea-sock-')
    path = os.path.join(directory, 'kea4-ctrl-socket')
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    stop = threading.Event()
    thread = threading.Thread(target=_serve_unix, args=(listener, fake, behaviour or UnixBehaviour(), stop))
    thread.daemon = True
    thread.start()
    fake.path = path
    try:
        yield fake
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        shutil.rmtree(directory, ignore_errors=True)


def run_module(main, args, capsys, check_mode=False):
    """Run a module's main() in-process with its real exit_json/fail_json (no_log scrubbing included).

    Returns (failed, result, stdout): stdout is everything the module printed, to search for secrets.
    """
    args = dict(args)
    args['_ansible_check_mode'] = check_mode
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            main()
    out = capsys.readouterr().out
    result = json.loads(out)
    return bool(exc.value.code) or bool(result.get('failed')), result, out


# --- Answers recorded from the real binaries ------------------------------

# Kea 2.2.0 (Debian 12) through the Control Agent, hot-standby primary.
STATUS_2_2_0_HOT_STANDBY = {
    'high-availability': [{
        'ha-mode': 'hot-standby',
        'ha-servers': {
            'local': {'role': 'primary', 'scopes': ['a'], 'state': 'hot-standby'},
            'remote': {'age': 0, 'analyzed-packets': 0, 'communication-interrupted': False,
                       'connecting-clients': 0, 'in-touch': True, 'last-scopes': [], 'last-state': 'hot-standby',
                       'role': 'standby', 'unacked-clients': 0, 'unacked-clients-left': 0},
        },
    }],
    'multi-threading-enabled': False, 'pid': 6, 'reload': 7, 'sockets': {'status': 'ready'}, 'uptime': 7,
}

# Kea 2.2.0 after its partner's kea-dhcp4 was killed: "in-touch" stays true.
STATUS_2_2_0_PARTNER_DOWN = {
    'high-availability': [{
        'ha-mode': 'hot-standby',
        'ha-servers': {
            'local': {'role': 'primary', 'scopes': ['a'], 'state': 'partner-down'},
            'remote': {'age': 16, 'analyzed-packets': 0, 'communication-interrupted': True,
                       'connecting-clients': 0, 'in-touch': True, 'last-scopes': [], 'last-state': 'unavailable',
                       'role': 'standby', 'unacked-clients': 0, 'unacked-clients-left': 1},
        },
    }],
    'multi-threading-enabled': False, 'pid': 6, 'reload': 48, 'sockets': {'status': 'ready'}, 'uptime': 48,
}

# Kea 3.0.4 (Debian forky), kea-dhcp4's own HTTP socket: names and clocks added.
STATUS_3_0_4_HOT_STANDBY = {
    'dhcp-state': {'disabled-by-db-connection': [], 'disabled-by-local-command': [],
                   'disabled-by-remote-command': [], 'disabled-by-user': False, 'globally-disabled': False},
    'high-availability': [{
        'ha-mode': 'hot-standby',
        'ha-servers': {
            'local': {'role': 'primary', 'scopes': ['a'], 'server-name': 'a', 'state': 'hot-standby',
                      'system-time': '2026-11-28 11:01:27'},
            'remote': {'age': 0, 'analyzed-packets': 0, 'clock-skew': 0, 'communication-interrupted': False,
                       'connecting-clients': 0, 'in-touch': True, 'last-scopes': [], 'last-state': 'hot-standby',
                       'role': 'standby', 'server-name': 'b', 'system-time': '2026-11-28 11:01:27',
                       'unacked-clients': 0, 'unacked-clients-left': 0},
        },
    }],
    'multi-threading-enabled': True, 'packet-queue-size': 64, 'pid': 1, 'reload': 7,
    'sockets': {'status': 'ready'}, 'thread-pool-size': 2, 'uptime': 7,
}

# Kea 3.0.4 passive-backup primary: no "remote" at all.
STATUS_3_0_4_PASSIVE_BACKUP = {
    'high-availability': [{
        'ha-mode': 'passive-backup',
        'ha-servers': {'local': {'role': 'primary', 'scopes': ['a'], 'server-name': 'a', 'state': 'passive-backup',
                                 'system-time': None}},
    }],
    'pid': 1,
}

# A server without the HA hook (2.2.0 and 3.0.4 alike).
STATUS_NO_HA = {'multi-threading-enabled': False, 'pid': 6, 'reload': 7, 'sockets': {'status': 'ready'},
                'uptime': 7}
HEARTBEAT_UNSUPPORTED = reply(2, "'ha-heartbeat' command not supported.")


# --- A pair whose HA states follow a script -----------------------------------

def status(local, partner, mode='hot-standby', in_touch=True):
    """A Kea 3.0.4-shaped status-get answer; None as partner: never reached."""
    arguments = copy.deepcopy(STATUS_3_0_4_HOT_STANDBY)
    relationship = arguments['high-availability'][0]
    relationship['ha-mode'] = mode
    relationship['ha-servers']['local']['state'] = local
    remote = relationship['ha-servers']['remote']
    remote['last-state'] = partner or ''
    remote['in-touch'] = partner is not None
    remote['communication-interrupted'] = not in_touch
    return reply(0, arguments=arguments)


class ScriptedPair(object):
    """Answers status-get from the current phase; every other HA command advances the phase."""

    def __init__(self, phases, command_results=None, mode='hot-standby'):
        self.phases = phases
        self.phase = 0
        self.step = 0
        self.mode = mode
        self.command_results = command_results or {}
        self.lock = threading.Lock()

    def __call__(self, request):
        with self.lock:
            if request.command == 'status-get':
                states = self.phases[self.phase]
                item = states[min(self.step, len(states) - 1)]
                self.step += 1
                if not isinstance(item, tuple):
                    return item  # a whole answer (an error, Raw)
                return status(item[0], item[1], self.mode, in_touch=(len(item) < 3 or item[2]))
            result = self.command_results.get(request.command, 0)
            if result == 0 and self.phase + 1 < len(self.phases):
                self.phase += 1
                self.step = 0
            return reply(result, '%s answered %d' % (request.command, result))
