# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """How the dhcpops.kea API modules reach Kea (fragment dhcpops.kea.kea_api)."""

    DOCUMENTATION = r'''
options:
  api_url:
    description:
      - URL of a Kea HTTP(S) API, for example V(http://127.0.0.1:8000/).
      - Either the Kea Control Agent (C(kea-ctrl-agent), Kea 3.0 and older), which forwards each command to the
        daemon named by O(api_service), or the HTTP(S) control socket that C(kea-dhcp4) serves itself from Kea
        2.7.2 (C(control-sockets) entry of type C(http) or C(https)).
      - Exactly one of O(api_url) and O(api_socket) is required.
    type: str
  api_socket:
    description:
      - Path of C(kea-dhcp4)'s unix control socket on the target, for example V(/run/kea/kea4-ctrl-socket).
      - Plain JSON over the socket, without authentication; the socket's file permissions are the access control
        (Debian 0750 C(_kea)), so the task usually needs C(become).
      - O(api_service), O(api_user) and the password, TLS options do not apply to it.
    type: path
  api_service:
    description:
      - The Kea daemon the Control Agent forwards the command to; sent as C("service") in the request.
      - Keep the default for a Control Agent; with V("") a Control Agent answers itself (for example its own
        C(status-get)), not C(kea-dhcp4).
      - C(kea-dhcp4)'s own HTTP socket of Kea 3.0.4 accepts a C(service) list and ignores it (checked on the
        binary, with V(dhcp4), V(dhcp6) and an empty list), so the default works there too; V("") leaves it out.
      - Never sent over O(api_socket).
    type: str
    default: dhcp4
  api_user:
    description:
      - User for HTTP basic authentication, as listed in the C(authentication) C(clients) of Kea's configuration.
      - Unset sends no credentials; Kea then answers HTTP 401 if it requires them.
    type: str
  api_password:
    description:
      - Password of O(api_user). Never returned or logged.
      - Mutually exclusive with O(api_password_file).
    type: str
  api_password_file:
    description:
      - Path, on the target, of a file holding the password of O(api_user), such as the C(password-file) Kea
        itself reads. The password never passes through Ansible variables.
      - Leading and trailing white space (a final newline) is not part of the password, as Kea 3.0.4 reads its own
        password files.
    type: path
  api_ca_path:
    description: CA certificate bundle (PEM) to verify Kea's HTTPS certificate with (Kea's C(trust-anchor) side).
    type: path
  api_client_cert:
    description:
      - Client certificate (PEM) to present to Kea, for Kea configured with C(cert-required).
      - May also hold the key; otherwise set O(api_client_key).
    type: path
  api_client_key:
    description: Private key (PEM) of O(api_client_cert).
    type: path
  api_validate_certs:
    description:
      - Verify Kea's HTTPS certificate and host name.
      - Only set V(false) in a lab; it hands the API credentials to anyone who can intercept the connection.
    type: bool
    default: true
  api_timeout:
    description:
      - Seconds to wait for a connection and for Kea's complete answer to each command.
    type: int
    default: 10
notes:
  - Kea answers every command with a result code, which the modules also name; V(0) success, V(1) error,
    V(2) unsupported, V(3) empty (meaning "not found", not an error), V(4) conflict (Kea 2.4+), V(5) partial
    (Kea 3.0.4+).
  - A request that gets no Kea answer at all fails the task with a message naming the URL or socket and the user,
    never the password; HTTP 401 or 403 means Kea refused the credentials.
  - Kea's answers can hold passwords in clear text (C(config-get) returns database and API passwords); every key
    named like C(password), C(secret) or C(token) is masked as C(********) in what the modules return.
  - HTTP requests go through Ansible's C(open_url), so proxy environment variables apply; set C(no_proxy) for
    the Kea hosts when a proxy is configured on the target.
'''
