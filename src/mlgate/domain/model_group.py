"""Model groups: register/update input and the stored document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.fields import opt_bool, opt_str, opt_str_list, token_name, validate_safe_fields
from mlgate.domain.records import INT, OBJECT, STR, STR_TUPLE, Kind, join, split

INDEX = ".plugins-ml-model-group"
ACCESS_MODES = ("public", "private", "restricted")


@dataclass(frozen=True)
class ModelGroupInput:
    """A parsed model-group register/update body."""

    name: str | None
    description: str | None
    access_mode: str | None
    backend_roles: list[str] | None
    add_all_backend_roles: bool | None
    model_group_id: str | None = None

    @property
    def has_access_params(self) -> bool:
        """Whether an access-control parameter was given, as ML Commons counts them where access control
        is off: an access mode, ``add_all_backend_roles`` (``false`` too), non-empty backend roles."""
        return (
            self.access_mode is not None or self.add_all_backend_roles is not None or bool(self.backend_roles)
        )

    @property
    def changes_access(self) -> bool:
        """ML Commons' ``hasAccessControlChange`` on update: any of the three given (an empty list too)."""
        return (
            self.access_mode is not None
            or self.add_all_backend_roles is not None
            or self.backend_roles is not None
        )


def parse_model_group_input(body: Mapping[str, Any], *, for_update: bool) -> ModelGroupInput:
    """Parse and validate a model-group body (ML Commons' messages)."""
    name = opt_str(body, "name")
    access_mode = opt_str(body, "access_mode")
    if access_mode is not None:
        # ML Commons' AccessMode.from looks the value up and yields null when unknown: such a value
        # counts as not given (MLRegisterModelGroupInput / MLUpdateModelGroupInput.parse).
        access_mode = access_mode.lower()
        if access_mode not in ACCESS_MODES:
            access_mode = None
    raw_roles = body.get("backend_roles")
    if raw_roles is not None and not isinstance(raw_roles, list):
        raise InvalidRequestError(
            f"Failed to parse object: expecting token of type [START_ARRAY] but found [{token_name(raw_roles)}]",
            error_type="parsing_exception",
        )
    inp = ModelGroupInput(
        name=name,
        description=opt_str(body, "description"),
        access_mode=access_mode,
        backend_roles=opt_str_list(body, "backend_roles"),
        add_all_backend_roles=opt_bool(body, "add_all_backend_roles"),
        model_group_id=opt_str(body, "model_group_id"),
    )
    if not for_update:
        if name is None:
            # ML Commons fails in the parser here (a NullPointerException, 500); we answer 400.
            raise InvalidRequestError("model group name must not be null")
        validate_safe_fields(
            [("Model group name", name, True), ("Model group description", inp.description, False)]
        )
    else:
        validate_safe_fields(
            [("Model group name", name, False), ("Model group description", inp.description, False)]
        )
    return inp


def new_document(
    inp: ModelGroupInput,
    *,
    now: int,
    access: str,
    backend_roles: list[str] | None,
    owner: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The stored document of a new group (latest_version starts at 0)."""
    doc: dict[str, Any] = {"name": inp.name, "latest_version": 0}
    if inp.description is not None:
        doc["description"] = inp.description
    if backend_roles:
        doc["backend_roles"] = backend_roles
    if owner is not None:
        doc["owner"] = dict(owner)
    doc["access"] = access
    doc["created_time"] = now
    doc["last_updated_time"] = now
    return doc


_KINDS: dict[str, Kind] = {
    "name": STR,
    "latest_version": INT,
    "description": STR,
    "backend_roles": STR_TUPLE,
    "owner": OBJECT,
    "access": STR,
    "created_time": INT,
    "last_updated_time": INT,
}


@dataclass(frozen=True, slots=True)
class ModelGroup:
    """A stored model group. ml-commons: common/.../model/MLModelGroup.java."""

    name: str | None = None
    latest_version: int | None = None
    description: str | None = None
    backend_roles: tuple[str, ...] | None = None
    owner: dict[str, Any] | None = None
    access: str | None = None
    created_time: int | None = None
    last_updated_time: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    order: tuple[str, ...] = ()

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> ModelGroup:
        """The record of a stored document (nothing in it is lost)."""
        typed, extra, order = split(doc, _KINDS)
        return cls(**typed, extra=extra, order=order)

    def to_doc(self) -> dict[str, Any]:
        """The stored document, keys in their stored order."""
        return join({key: getattr(self, key) for key in _KINDS}, self.extra, self.order, _KINDS)
