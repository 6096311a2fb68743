"""Who may use a server: sign-in is required beyond loopback. Light on purpose (settings and errors only), so that
`assistant serve` refuses a public server without sign-in before it imports the UI or loads the model."""

from __future__ import annotations

import ipaddress

from ..errors import ConfigError
from ..settings import ServiceSettings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_sign_in(settings: ServiceSettings, host: str, share: bool) -> None:
    """Beyond loopback (or with a share link) the API needs a token and the UI credentials; refuse to start otherwise."""
    if is_loopback(host) and not share:
        return
    missing = [name for name, value in (("service.api_token", settings.api_token), ("service.users", settings.users)) if not value]
    if missing:
        where = "with --share" if share else f"on {host}"
        raise ConfigError(
            f"Refusing to serve {where} without sign-in: set {' and '.join(missing)} (environment: ASSISTANT_SERVICE__API_TOKEN, "
            'ASSISTANT_SERVICE__USERS=\'{"name": "password"}\'), or serve on 127.0.0.1.'
        )
