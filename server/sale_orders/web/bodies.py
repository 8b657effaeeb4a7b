"""Request bodies validated in one pass, straight from the JSON bytes.

Without a DTO, Litestar decodes a body to Python values (msgspec), then validates them into the handler's model
(`model_validate`, which SQLModel runs through a slower Python path). `OnePassDTO` hands the raw bytes to the
model's pydantic-core validator instead. A body it refuses goes through those two passes again, so a client
gets exactly the problem it got before.
"""

from collections.abc import Collection, Generator
from typing import Any, TypeVar

from litestar._openapi.schema_generation import SchemaCreator
from litestar.datastructures import URL
from litestar.dto import AbstractDTO
from litestar.dto._backend import DTOBackend
from litestar.dto.data_structures import DTOFieldDefinition
from litestar.exceptions import ImproperlyConfiguredException, SerializationException, ValidationException
from litestar.openapi.spec import Reference, Schema
from litestar.serialization import decode_json
from litestar.typing import FieldDefinition
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

M = TypeVar("M", bound=BaseModel)


class OnePassDTO(AbstractDTO[Any]):
    """Validate a handler's JSON body with its pydantic model's `validate_json`, strictly.

    Strict as the app's `PydanticInitPlugin(validate_strict=True)`: `"1"` or `true` is not an id. Not narrowed
    to one model: it serves every handler it is set on, with the model of that handler's `data` annotation.
    Request bodies only; set `return_dto=None` beside it.
    """

    __slots__ = ()

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: type[DTOBackend] | None = None
    ) -> None:
        """Check the handler's body is one this DTO can decode (called once per handler, at startup)."""
        del handler_id, backend_cls
        model = field_definition.annotation
        is_model = field_definition.is_subclass_of(BaseModel)
        # A table model would miss SQLModel's instrumentation, and a table is never a request body anyway.
        if field_definition.name != "data" or not is_model or model.model_config.get("table", False):
            msg = f"{cls.__name__} decodes a `data` body of one pydantic model, not a table; got {model}"
            raise ImproperlyConfiguredException(msg)

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: SchemaCreator
    ) -> Reference | Schema:
        """The schema Litestar gives the same body without a DTO: the contract does not change."""
        del handler_id
        return schema_creator.for_field_definition(field_definition)

    def decode_bytes(self, value: bytes) -> BaseModel:
        # The handler's own `data` field, parsed once; `handler_id` would build a string on every request.
        model: type[BaseModel] = self.asgi_connection.route_handler.parsed_data_field.annotation
        try:
            return validate_json(model, value)
        except PydanticValidationError:
            return self._two_passes(model, value)

    def _two_passes(self, model: type[BaseModel], value: bytes) -> BaseModel:
        """Litestar's own decoding and validation of a body, raising the errors it raises.

        `request.json()` then the pydantic plugin's `model_validate`, and the signature model's error messages.
        """
        try:
            data = decode_json(value)
        except RecursionError as exc:  # msgspec's, uncaught by Litestar: a 500 before this DTO
            msg = "JSON is malformed: nested too deeply"
            raise SerializationException(msg) from exc
        try:
            return model.model_validate(data, strict=True)
        except PydanticValidationError as exc:
            connection = self.asgi_connection
            path = URL.from_components(path=connection.url.path, query=connection.url.query)
            method = connection.scope.get("method", "")
            raise ValidationException(
                detail=f"Validation failed for {method} {path}",
                extra=[_error_message(error) for error in exc.errors(include_input=False)],
            ) from exc

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        del value
        msg = f"{type(self).__name__} decodes JSON bodies only"
        raise ImproperlyConfiguredException(msg)

    def data_to_encodable_type(self, data: Any | Collection[Any]) -> Any:
        del data
        msg = f"{type(self).__name__} decodes request bodies only; set return_dto=None"
        raise ImproperlyConfiguredException(msg)

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        """Unused: this DTO builds no transfer model."""
        del model_type
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        """Unused: this DTO builds no transfer model."""
        del field_definition
        return False


def validate_json(model: type[M], value: bytes) -> M:
    """`value`, a JSON document, validated strictly into a `model`, in one pass.

    Into an instance made first, as SQLModel's `model_validate` does: given none, pydantic-core would call
    SQLModel's `__init__`, which validates the decoded values a second time, and not strictly.
    """
    instance = model.__new__(model)
    model.__pydantic_validator__.validate_json(value, strict=True, self_instance=instance)
    return instance


def _error_message(error: Any) -> dict[str, str]:
    """One pydantic error as Litestar's signature model reports a body error (`key` is the field's path)."""
    message = {"message": str(error["msg"]).split(" - ", maxsplit=1)[0], "source": "body"}
    if loc := error["loc"]:
        message["key"] = ".".join(str(part) for part in loc)
    return message
