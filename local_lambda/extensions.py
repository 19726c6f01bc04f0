"""The part of Lambda's Extensions API (2020-01-01) a function's internal extension uses.

A runtime registers an internal extension during init (``POST /extension/register`` with
``Lambda-Extension-Name``) and parks a thread in ``GET /extension/event/next``. What that
buys is Lambda's shutdown behaviour: with an extension registered the runtime gets
SIGTERM and :data:`GRACE_S` before SIGKILL; without one it is killed outright. The
answers and error types are the service's (the runtime interface emulator's
``rapi/handler``): 403 with ``{"errorType", "errorMessage"}`` for what it refuses.

External extensions (separate processes from ``/opt/extensions``) and the INVOKE and
SHUTDOWN events are not served: the project's function needs neither.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

PREFIX = "/2020-01-01/extension"
NAME_HEADER = "Lambda-Extension-Name"
IDENTIFIER_HEADER = "Lambda-Extension-Identifier"
#: The runtime's time between SIGTERM and SIGKILL when an internal extension is registered.
GRACE_S = 0.5
#: Extensions per function (the Register call enforces it).
MAX_EXTENSIONS = 10
#: What an internal extension may subscribe to (SHUTDOWN is for external ones only).
INTERNAL_EVENTS = ("INVOKE",)
KNOWN_EVENTS = ("INVOKE", "SHUTDOWN")

Answer = tuple[int, dict[str, Any], dict[str, str]]


def _refused(error_type: str, message: str) -> Answer:
    return 403, {"errorType": error_type, "errorMessage": message}, {}


@dataclass
class Extension:
    name: str
    identifier: str
    events: list[str]
    #: It called event/next: ready, as Lambda needs of every extension before init ends.
    waiting: bool = False


@dataclass
class Extensions:
    """The extensions one runtime registered (a reset's new runtime starts with none)."""

    function_name: str
    handler: str
    function_version: str = "$LATEST"
    registered: list[Extension] = field(default_factory=list)

    def register(self, name: str, body: bytes, open_: bool) -> Answer:
        """The Register call; ``open_`` is False once the init phase is over."""
        if not name:
            return _refused("Extension.InvalidExtensionName", "Empty extension name")
        try:
            request = json.loads(body or b"{}")
            if not isinstance(request, dict):
                raise ValueError("the body is not a JSON object")
            events = request.get("events") or []
            if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
                raise ValueError("events is not a list of strings")
            if request.get("configurationKeys"):
                raise ValueError("configurationKeys are deprecated; use environment variables instead")
        except ValueError as exc:
            return _refused("InvalidRequestFormat", str(exc))
        for event in events:
            if event not in KNOWN_EVENTS:
                return _refused("Extension.InvalidEventType", f"{event}: invalid event type")
            if event not in INTERNAL_EVENTS:
                return _refused("Extension.InvalidEventType", f"{event}: event not supported for internal extensions")
        if not open_:
            return _refused("Extension.RegistrationClosed", "Extension registration closed already")
        if any(e.name == name for e in self.registered):
            return _refused("Extension.InvalidExtensionState", "Extension with this name already registered")
        if len(self.registered) >= MAX_EXTENSIONS:
            return _refused("Extension.TooManyExtensions", f"Extension limit ({MAX_EXTENSIONS}) reached")
        extension = Extension(name, str(uuid.uuid4()), list(events))
        self.registered.append(extension)
        body_out = {"functionName": self.function_name, "functionVersion": self.function_version, "handler": self.handler}
        return 200, body_out, {IDENTIFIER_HEADER: extension.identifier}

    def find(self, identifier: str) -> Extension | Answer:
        """The extension an event/next call names, or the refusal to send."""
        if not identifier:
            return _refused("Extension.MissingExtensionIdentifier", "Missing Lambda-Extension-Identifier header")
        try:
            uuid.UUID(identifier)
        except ValueError:
            return _refused("Extension.InvalidExtensionIdentifier", "Invalid Lambda-Extension-Identifier")
        for extension in self.registered:
            if extension.identifier == identifier:
                return extension
        return _refused("Extension.UnknownExtensionIdentifier", f"Unknown extension {identifier}")

    @property
    def any(self) -> bool:
        return bool(self.registered)

    @property
    def all_waiting(self) -> bool:
        """Every registered extension called event/next (Lambda's condition for init to end)."""
        return all(e.waiting for e in self.registered)
