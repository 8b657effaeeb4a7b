"""OpenAPI settings, and a fix for a gap in Litestar's pydantic schemas."""

from typing import Any

from litestar.openapi.spec import Schema
from litestar.plugins.pydantic import PydanticSchemaPlugin
from litestar.typing import FieldDefinition

from sale_orders.upstream import SchemaCreator


class ForbidExtraSchemaPlugin(PydanticSchemaPlugin):
    """Publish pydantic's `extra="forbid"` as `additionalProperties: false`.

    Litestar's own plugin leaves it out, so the contract would claim unknown fields are accepted while the
    server rejects them, and contract tests would report every such rejection.
    """

    @classmethod
    def for_pydantic_model(cls, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().for_pydantic_model(field_definition, schema_creator)
        config: dict[str, Any] = getattr(field_definition.annotation, "model_config", {})
        if config.get("extra") == "forbid":
            schema.additional_properties = False
        return schema
