"""Host keys: which key a request presented, and whether it opens the route it asks for.

The rules are those of the Functions host (Azure/azure-functions-host, src/WebJobs.Script.WebHost/):
the key is read from the `x-functions-key` header, else the `code` query parameter
(Security/Authentication/Keys/AuthenticationLevelHandler.cs); it is matched against the master
key (Admin), then the system keys (System, with the key's name), then the function keys
(Function) (Security/KeyManagement/SecretManager.cs, GetAuthorizationLevelAsync); a route then
accepts the levels its policy names (Security/Authorization/AuthUtility.cs,
PrincipalHasAuthLevelClaim: Admin is accepted everywhere).

Locally each kind has one key, from a setting or the command line. With none configured every
route is open, as under Core Tools; with any configured, a key left unset matches nothing.
"""

from __future__ import annotations

import enum
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass, fields
from http import HTTPStatus

from aiohttp import web

FUNCTION_KEY_SETTING = "DEVHOST_FUNCTION_KEY"
MASTER_KEY_SETTING = "DEVHOST_MASTER_KEY"
EVENTGRID_EXTENSION_KEY_SETTING = "DEVHOST_EVENTGRID_EXTENSION_KEY"
DURABLETASK_EXTENSION_KEY_SETTING = "DEVHOST_DURABLETASK_EXTENSION_KEY"
KEY_HEADER = "x-functions-key"
KEY_QUERY = "code"

_LOG = logging.getLogger("devhost.http")


class Level(enum.Enum):
    """What a key grants (the host's AuthorizationLevel)."""

    ANONYMOUS = "anonymous"
    FUNCTION = "function"
    SYSTEM = "system"
    ADMIN = "admin"


@dataclass(frozen=True)
class KeyMatch:
    """The key a request presented: its level and, for a system key, its name."""

    level: Level
    name: str | None = None

    def describe(self) -> str:
        """How a refusal names the presented key (never its value)."""
        if self.level is Level.SYSTEM:
            return f"the {self.name} system key"
        return "the master key" if self.level is Level.ADMIN else "the function key"


@dataclass(frozen=True)
class HostKeys:
    """The keys this host accepts; None is a key that is not configured."""

    function: str | None = None
    master: str | None = None
    eventgrid_extension: str | None = None
    durabletask_extension: str | None = None

    @property
    def enforced(self) -> bool:
        """Whether any key is configured, which turns every check on."""
        return any(getattr(self, field.name) for field in fields(self))

    def system_keys(self) -> dict[str, str]:
        """The configured system keys by name (`<extension>_extension`)."""
        named = {
            system_key_name("eventgrid"): self.eventgrid_extension,
            system_key_name("durabletask"): self.durabletask_extension,
        }
        return {name: value for name, value in named.items() if value}

    def match(self, presented: str | None) -> KeyMatch | None:
        """What `presented` is, in the host's order: master, system keys, function key."""
        if not presented:
            return None
        if _same(presented, self.master):
            return KeyMatch(Level.ADMIN)
        for name, value in self.system_keys().items():
            if _same(presented, value):
                return KeyMatch(Level.SYSTEM, name)
        if _same(presented, self.function):
            return KeyMatch(Level.FUNCTION)
        return None


NO_KEYS = HostKeys()
"""No key configured: every route is open."""

_SETTINGS = {
    "function": FUNCTION_KEY_SETTING,
    "master": MASTER_KEY_SETTING,
    "eventgrid_extension": EVENTGRID_EXTENSION_KEY_SETTING,
    "durabletask_extension": DURABLETASK_EXTENSION_KEY_SETTING,
}


def configured_keys(explicit: HostKeys, settings: Mapping[str, str]) -> HostKeys:
    """The keys to enforce: each one given explicitly (command line) wins over its setting."""
    return HostKeys(
        **{
            field: getattr(explicit, field) or settings.get(setting) or None
            for field, setting in _SETTINGS.items()
        }
    )


def system_key_name(extension: str) -> str:
    """The system key an extension's webhook takes (DefaultScriptWebHookProvider.GetKeyName)."""
    return f"{extension}_extension".lower()


def presented_key(query: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
    """The header's key if the header is there (even empty), else the `code` parameter's."""
    if KEY_HEADER in headers:
        return headers[KEY_HEADER]
    return query.get(KEY_QUERY)


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: the status to answer and a reason for the log."""

    status: HTTPStatus
    reason: str


def check_function(keys: HostKeys, auth_level: str, presented: str | None) -> Refusal | None:
    """An HTTP trigger at `auth_level`: always 401 when refused, whatever key was presented
    (Middleware/FunctionInvocationMiddleware.cs answers UnauthorizedResult)."""
    try:
        required = Level(auth_level.lower())
    except ValueError:
        required = Level.FUNCTION  # the HttpTrigger attribute's default
    if not keys.enforced or required is Level.ANONYMOUS:
        return None
    found = keys.match(presented)
    if found is not None and found.level in (required, Level.ADMIN):
        return None
    needs = {
        Level.FUNCTION: "a function key or the master key",
        Level.SYSTEM: "a system key or the master key",
        Level.ADMIN: "the master key",
    }[required]
    return Refusal(HTTPStatus.UNAUTHORIZED, f"{_presented(found, presented)}; needs {needs}")


def check_webhook(keys: HostKeys, extension: str, presented: str | None) -> Refusal | None:
    """`/runtime/webhooks/<extension>`: the extension's system key or the master key
    (Controllers/HostController.cs ExtensionWebHookHandler, policy AuthLevelSystemKey in
    Security/Authorization/Policies/AuthorizationOptionsExtensions.cs)."""
    name = system_key_name(extension)
    return _check_host_route(
        keys, presented, KeyMatch(Level.SYSTEM, name), f"the {name} key or the master key"
    )


def check_admin(keys: HostKeys, presented: str | None) -> Refusal | None:
    """`/admin/...`: the master key (Controllers/HostController.cs: `admin/host/status` has the
    policy AdminAuthLevelOrInternal, which requires what AdminAuthLevel does)."""
    return _check_host_route(keys, presented, None, "the master key")


def _check_host_route(
    keys: HostKeys, presented: str | None, accepted: KeyMatch | None, needs: str
) -> Refusal | None:
    # An ASP.NET [Authorize] policy: a request whose key matches no key is not authenticated
    # and gets the challenge, 401; one whose key is known but not accepted gets Forbid, 403.
    if not keys.enforced:
        return None
    found = keys.match(presented)
    if found is not None and (found.level is Level.ADMIN or found == accepted):
        return None
    status = HTTPStatus.UNAUTHORIZED if found is None else HTTPStatus.FORBIDDEN
    return Refusal(status, f"{_presented(found, presented)}; needs {needs}")


def _presented(found: KeyMatch | None, presented: str | None) -> str:
    if found is not None:
        return f"{found.describe()} was presented"
    return "a key matching no key of this host" if presented else "no key was presented"


def _same(presented: str, key: str | None) -> bool:
    return bool(key) and hmac.compare_digest(presented.encode(), str(key).encode())


def refused(request: web.Request, refusal: Refusal) -> web.Response:
    """The host's answer to a refused request: the status with an empty body; the reason is
    logged here, since the response does not carry it."""
    _LOG.info("%s %s: %d, %s", request.method, request.path, refusal.status, refusal.reason)
    return web.Response(status=refusal.status)
