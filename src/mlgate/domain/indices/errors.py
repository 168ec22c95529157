"""The index errors: members of the one error tree (``domain/errors.py``) that carry OpenSearch's
metadata (``index``, ``index_uuid``) for the error renderer."""

from __future__ import annotations

from mlgate.domain.errors import InvalidRequestError, NotFoundError


class InvalidIndexNameError(InvalidRequestError):
    """``invalid_index_name_exception`` (OpenSearch: ``InvalidIndexNameException``, 400)."""

    default_type = "invalid_index_name_exception"

    def __init__(self, index: str, description: str) -> None:
        super().__init__(f"Invalid index name [{index}], {description}")
        self.index = index
        self.index_uuid = "_na_"


class IndexNotFoundError(NotFoundError):
    """``index_not_found_exception`` ``no such index [<index>]`` (404)."""

    default_type = "index_not_found_exception"

    def __init__(self, index: str) -> None:
        super().__init__(f"no such index [{index}]")
        self.index = index
        self.index_uuid = "_na_"


class IndexAlreadyExistsError(InvalidRequestError):
    """``resource_already_exists_exception`` ``index [<index>/<uuid>] already exists`` (400)."""

    default_type = "resource_already_exists_exception"

    def __init__(self, index: str, uuid: str) -> None:
        super().__init__(f"index [{index}/{uuid}] already exists")
        self.index = index
        self.index_uuid = uuid


class MapperParsingError(InvalidRequestError):
    """``mapper_parsing_exception`` (400); ``caused_by`` names the inner exception when there is one."""

    default_type = "mapper_parsing_exception"
