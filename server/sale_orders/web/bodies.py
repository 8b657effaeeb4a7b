"""Request bodies: JSON only, decoded exactly, bounded, then validated strictly into the handler's model.

Without a DTO, Litestar reads any body as JSON whatever its Content-Type, and decodes its numbers as floats
before validation sees them: `0.1000000000000000055511151231257827` became the price 0.1, and `2.0000000000000001`
the quantity 2. `JSONBodyDTO` instead:

1. refuses a body that is not `application/json` (or `application/<x>+json`), with a 415 (`require_json`, called
   before the body is read by `web/unambiguous.py`): a browser sends `text/plain`, forms and multipart across
   origins without asking first (no CORS preflight), so a JSON-only API must not read them;
2. decodes the JSON with every number exact (a fraction as the `Decimal` it spells, never a float), and refuses
   duplicate keys and the constants JSON does not have (`NaN`, `Infinity`);
3. refuses a body with more than `MAX_BODY_VALUES` values before validating it, so that the work, and the errors
   a 400 lists, stay small whatever the body (a valid order has a few hundred at most);
4. validates strictly (`"1"` or `true` is not an id), into the handler's own model.
"""

import json
from collections.abc import Collection, Generator
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn, TypeVar

from litestar.datastructures import URL
from litestar.dto import AbstractDTO
from litestar.dto.data_structures import DTOFieldDefinition
from litestar.exceptions import (
    ClientException,
    ImproperlyConfiguredException,
    SerializationException,
    ValidationException,
)
from litestar.openapi.spec import Reference, Schema
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE
from litestar.types import Scope
from litestar.typing import FieldDefinition
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from sale_orders.domain import limits
from sale_orders.upstream import DTOBackend, SchemaCreator

M = TypeVar("M", bound=BaseModel)

_CONTENT_TYPE = b"content-type"


class UnsupportedMediaTypeException(ClientException):
    status_code = HTTP_415_UNSUPPORTED_MEDIA_TYPE


def is_json_media_type(content_type: str) -> bool:
    """Whether a Content-Type names JSON: `application/json` or `application/<x>+json`, in UTF-8 if it says.

    One type only: a comma would join two Content-Type headers (RFC 9110 5.3), which is ambiguous.
    """
    if "," in content_type:
        return False
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    kind, _, subtype = media_type.partition("/")
    if kind != "application" or not (subtype == "json" or (subtype.endswith("+json") and subtype != "+json")):
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in {"utf-8", "utf8"}:
            return False
    return True


def require_json(scope: Scope | dict[str, Any]) -> None:
    """Raise a 415 unless the request says its body is JSON, once."""
    given = [value for name, value in scope["headers"] if name == _CONTENT_TYPE]
    if len(given) != 1 or not is_json_media_type(given[0].decode("latin-1")):
        msg = "send the body as JSON, with `Content-Type: application/json`"
        raise UnsupportedMediaTypeException(msg)


def _refuse_constant(name: str) -> NoReturn:
    msg = f"{name} is not a JSON number"
    raise ValueError(msg)


class DuplicateKeyError(ValueError):
    """A JSON object names a key twice: which value was meant is not clear, so neither is taken."""


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        msg = f"the key {duplicate!r} appears twice in one object"
        raise DuplicateKeyError(msg)
    return result


def decode_exactly(raw: bytes) -> Any:
    """JSON `raw` as Python values, every number exact: integers as `int`, fractions and exponents as `Decimal`.

    Raises:
        SerializationException: not JSON (malformed, not UTF-8, nested too deeply, a key twice, NaN or Infinity,
            an integer with more digits than Python converts, an exponent beyond what `Decimal` holds).
    """
    try:
        # Decoded as UTF-8 first: given bytes, json.loads would also read UTF-16 and UTF-32.
        text = raw.decode()
        return json.loads(
            text, parse_float=Decimal, parse_constant=_refuse_constant, object_pairs_hook=_object_without_duplicates
        )
    except RecursionError as exc:
        msg = "JSON is malformed: nested too deeply"
        raise SerializationException(msg) from exc
    except DuplicateKeyError as exc:
        msg = f"JSON is ambiguous: {exc}"
        raise SerializationException(msg) from exc
    except json.JSONDecodeError as exc:
        msg = f"JSON is malformed: {exc.msg} (at byte {exc.pos})"
        raise SerializationException(msg) from exc
    except UnicodeDecodeError as exc:
        msg = "JSON is malformed: not UTF-8"
        raise SerializationException(msg) from exc
    except InvalidOperation as exc:  # an ArithmeticError, not a ValueError: `1e1000000000000000000`
        msg = "JSON is malformed: a number's exponent is out of range"
        raise SerializationException(msg) from exc
    except ValueError as exc:  # NaN or Infinity, or an integer with more digits than Python converts
        detail = str(exc) if "JSON number" in str(exc) else "a number has too many digits"
        msg = f"JSON is malformed: {detail}"
        raise SerializationException(msg) from exc


def has_at_most(data: Any, limit: int) -> bool:
    """Whether `data` holds at most `limit` values: itself, every member and item, nested (counted up to the limit)."""
    count, pending = 0, [data]
    while pending:
        value = pending.pop()
        count += 1
        if isinstance(value, dict | list):
            if count + len(value) > limit:
                return False
            pending.extend(value.values() if isinstance(value, dict) else value)
    return count <= limit


def validate(model: type[M], data: Any) -> M:
    """Decoded JSON `data` validated strictly into a `model`.

    Into an instance made first, as SQLModel's `model_validate` does: given none, pydantic-core would call
    SQLModel's `__init__`, which validates the values a second time, and not strictly.
    """
    instance = model.__new__(model)
    model.__pydantic_validator__.validate_python(data, strict=True, self_instance=instance)
    return instance


def decode_body(model: type[M], raw: bytes) -> M:
    """A request body: exact JSON, at most `limits.MAX_BODY_VALUES` values, valid as a `model`.

    Raises:
        SerializationException: the body is not JSON (a 400).
        pydantic.ValidationError: the values do not fit the model (a 400 listing them).
        ValidationException: the body has too many values to be a request of this API (a 400).
    """
    data = decode_exactly(raw)
    if not has_at_most(data, limits.MAX_BODY_VALUES):
        msg = f"the body has more than {limits.MAX_BODY_VALUES} values; no request of this API has that many"
        raise ValidationException(detail=msg, extra=[{"message": msg, "source": "body"}])
    return validate(model, data)


class JSONBodyDTO(AbstractDTO[Any]):
    """Decode a handler's `data` body as `decode_body` does, into the handler's pydantic model.

    Strict as the app's `PydanticInitPlugin(validate_strict=True)`. Not narrowed to one model: it serves every
    handler it is set on, with the model of that handler's `data` annotation. Request bodies only; set
    `return_dto=None` beside it.
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
        connection = self.asgi_connection
        # Its Content-Type was checked before the body was read (`web/unambiguous.py`). The handler's own `data`
        # field, parsed once; `handler_id` would build a string on every request.
        model: type[BaseModel] = connection.route_handler.parsed_data_field.annotation
        try:
            return decode_body(model, value)
        except PydanticValidationError as exc:
            path = URL.from_components(path=connection.url.path, query=connection.url.query)
            method = connection.scope.get("method", "")
            raise ValidationException(
                detail=f"Validation failed for {method} {path}",
                extra=[_error_message(error) for error in exc.errors(include_input=False, include_url=False)],
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


def _error_message(error: Any) -> dict[str, str]:
    """One pydantic error as Litestar's signature model reports a body error (`key` is the field's path)."""
    message = {"message": str(error["msg"]).split(" - ", maxsplit=1)[0], "source": "body"}
    if loc := error["loc"]:
        message["key"] = ".".join(str(part) for part in loc)
    return message
