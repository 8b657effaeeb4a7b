"""This family's routes: each turns an HTTP request into one call of a service, which Litestar injects.

Services answer with the JSON document already encoded; `EncodedJSON[X]` documents it as the schema `X`.
"""

from litestar import Controller, Response
from litestar.di import NamedDependency
from litestar.params import JSONBody

from sale_orders.domain import limits, schemas
from sale_orders.family import descriptions, routes
from sale_orders.family.params import After, ConsistencyTokenHeader, IdempotencyKeyHeader, ItemId, Limit
from sale_orders.family.providers import provide_service
from sale_orders.family.record import ASYNC
from sale_orders.web.encoded import EncodedJSON, deleted

from . import services

_PAGE = limits.DEFAULT_PAGE_SIZE


class ContactController(Controller):
    path = "/contact"
    dependencies = provide_service(ASYNC, services.ContactService)

    @routes.post(
        ASYNC,
        "/",
        summary="Create a contact",
        description=descriptions.CREATE_CONTACT,
        problems=[422],
    )
    async def create_contact(
        self,
        data: JSONBody[schemas.ContactCreate],
        service: NamedDependency[services.ContactService],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> EncodedJSON[schemas.Contact]:
        return EncodedJSON.created(await service.create(data, idempotency_key), ASYNC.path + self.path)

    @routes.get(
        ASYNC,
        "/",
        summary="List contacts, a page at a time",
        description=descriptions.LIST_CONTACTS,
    )
    async def list_contacts(
        self,
        service: NamedDependency[services.ContactService],
        after: After = 0,
        limit: Limit = _PAGE,
        consistency_token: ConsistencyTokenHeader = None,
    ) -> EncodedJSON[list[schemas.Contact]]:
        return EncodedJSON(await service.page(after, limit, consistency_token))

    @routes.get(
        ASYNC,
        "/{item_id:int}",
        summary="Read a contact",
        description=descriptions.GET_CONTACT,
        problems=[404],
    )
    async def get_contact(
        self,
        item_id: ItemId,
        service: NamedDependency[services.ContactService],
        consistency_token: ConsistencyTokenHeader = None,
    ) -> EncodedJSON[schemas.Contact]:
        return EncodedJSON(await service.get(item_id, consistency_token))

    @routes.patch(
        ASYNC,
        "/{item_id:int}",
        summary="Change a contact",
        description=descriptions.UPDATE_CONTACT,
        problems=[404],
    )
    async def update_contact(
        self,
        item_id: ItemId,
        data: JSONBody[schemas.ContactUpdate],
        service: NamedDependency[services.ContactService],
    ) -> EncodedJSON[schemas.Contact]:
        return EncodedJSON.written(await service.update(item_id, data))

    @routes.delete(
        ASYNC,
        "/{item_id:int}",
        summary="Delete a contact without orders",
        description=descriptions.DELETE_CONTACT,
        problems=[404, 409],
    )
    async def delete_contact(
        self, item_id: ItemId, service: NamedDependency[services.ContactService]
    ) -> Response[None]:
        return deleted(await service.delete(item_id))


class ProductController(Controller):
    path = "/product"
    dependencies = provide_service(ASYNC, services.ProductService)

    @routes.post(
        ASYNC,
        "/",
        summary="Create a product",
        description=descriptions.CREATE_PRODUCT,
        problems=[422],
    )
    async def create_product(
        self,
        data: JSONBody[schemas.ProductCreate],
        service: NamedDependency[services.ProductService],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> EncodedJSON[schemas.Product]:
        return EncodedJSON.created(await service.create(data, idempotency_key), ASYNC.path + self.path)

    @routes.get(
        ASYNC,
        "/",
        summary="List products, a page at a time",
        description=descriptions.LIST_PRODUCTS,
    )
    async def list_products(
        self,
        service: NamedDependency[services.ProductService],
        after: After = 0,
        limit: Limit = _PAGE,
        consistency_token: ConsistencyTokenHeader = None,
    ) -> EncodedJSON[list[schemas.Product]]:
        return EncodedJSON(await service.page(after, limit, consistency_token))

    @routes.get(
        ASYNC,
        "/{item_id:int}",
        summary="Read a product",
        description=descriptions.GET_PRODUCT,
        problems=[404],
    )
    async def get_product(
        self,
        item_id: ItemId,
        service: NamedDependency[services.ProductService],
        consistency_token: ConsistencyTokenHeader = None,
    ) -> EncodedJSON[schemas.Product]:
        return EncodedJSON(await service.get(item_id, consistency_token))

    @routes.patch(
        ASYNC,
        "/{item_id:int}",
        summary="Change a product",
        description=descriptions.UPDATE_PRODUCT,
        problems=[404],
    )
    async def update_product(
        self,
        item_id: ItemId,
        data: JSONBody[schemas.ProductUpdate],
        service: NamedDependency[services.ProductService],
    ) -> EncodedJSON[schemas.Product]:
        return EncodedJSON.written(await service.update(item_id, data))

    @routes.delete(
        ASYNC,
        "/{item_id:int}",
        summary="Delete a product no order uses",
        description=descriptions.DELETE_PRODUCT,
        problems=[404, 409],
    )
    async def delete_product(
        self, item_id: ItemId, service: NamedDependency[services.ProductService]
    ) -> Response[None]:
        return deleted(await service.delete(item_id))


class TagController(Controller):
    path = "/tag"
    dependencies = provide_service(ASYNC, services.TagService)

    @routes.post(
        ASYNC,
        "/",
        summary="Create a tag",
        description=descriptions.CREATE_TAG,
        problems=[409, 422],
    )
    async def create_tag(
        self,
        data: JSONBody[schemas.TagCreate],
        service: NamedDependency[services.TagService],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> EncodedJSON[schemas.Tag]:
        return EncodedJSON.created(await service.create(data, idempotency_key), ASYNC.path + self.path)

    @routes.get(
        ASYNC,
        "/",
        summary="List tags, a page at a time",
        description=descriptions.LIST_TAGS,
    )
    async def list_tags(
        self,
        service: NamedDependency[services.TagService],
        after: After = 0,
        limit: Limit = _PAGE,
        consistency_token: ConsistencyTokenHeader = None,
    ) -> EncodedJSON[list[schemas.Tag]]:
        return EncodedJSON(await service.page(after, limit, consistency_token))

    @routes.get(
        ASYNC,
        "/{item_id:int}",
        summary="Read a tag",
        description=descriptions.GET_TAG,
        problems=[404],
    )
    async def get_tag(
        self,
        item_id: ItemId,
        service: NamedDependency[services.TagService],
        consistency_token: ConsistencyTokenHeader = None,
    ) -> EncodedJSON[schemas.Tag]:
        return EncodedJSON(await service.get(item_id, consistency_token))

    @routes.patch(
        ASYNC,
        "/{item_id:int}",
        summary="Rename a tag",
        description=descriptions.UPDATE_TAG,
        problems=[404, 409],
    )
    async def update_tag(
        self, item_id: ItemId, data: JSONBody[schemas.TagUpdate], service: NamedDependency[services.TagService]
    ) -> EncodedJSON[schemas.Tag]:
        return EncodedJSON.written(await service.update(item_id, data))

    @routes.delete(
        ASYNC,
        "/{item_id:int}",
        summary="Delete a tag no order uses",
        description=descriptions.DELETE_TAG,
        problems=[404, 409],
    )
    async def delete_tag(self, item_id: ItemId, service: NamedDependency[services.TagService]) -> Response[None]:
        return deleted(await service.delete(item_id))


class OrderController(Controller):
    path = "/order"
    dependencies = provide_service(ASYNC, services.OrderService)

    @routes.post(
        ASYNC,
        "/",
        summary="Create a sale order with its lines and tags",
        description=descriptions.CREATE_ORDER,
        problems=[409, 422],
    )
    async def create_order(
        self,
        data: JSONBody[schemas.OrderCreate],
        service: NamedDependency[services.OrderService],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> EncodedJSON[schemas.Order]:
        return EncodedJSON.created(await service.create(data, idempotency_key), ASYNC.path + self.path)

    @routes.get(
        ASYNC,
        "/",
        summary="List sale orders with lines and tags, a page at a time",
        description=descriptions.LIST_ORDERS,
    )
    async def list_orders(
        self,
        service: NamedDependency[services.OrderService],
        after: After = 0,
        limit: Limit = _PAGE,
        consistency_token: ConsistencyTokenHeader = None,
    ) -> EncodedJSON[list[schemas.Order]]:
        return EncodedJSON(await service.page(after, limit, consistency_token))

    @routes.get(
        ASYNC,
        "/{item_id:int}",
        summary="Read a sale order",
        description=descriptions.GET_ORDER,
        problems=[404],
    )
    async def get_order(
        self,
        item_id: ItemId,
        service: NamedDependency[services.OrderService],
        consistency_token: ConsistencyTokenHeader = None,
    ) -> EncodedJSON[schemas.Order]:
        return EncodedJSON(await service.get(item_id, consistency_token))

    @routes.patch(
        ASYNC,
        "/{item_id:int}",
        summary="Change a sale order; lines and tags are replaced",
        description=descriptions.UPDATE_ORDER,
        problems=[404, 409, 422],
    )
    async def update_order(
        self,
        item_id: ItemId,
        data: JSONBody[schemas.OrderUpdate],
        service: NamedDependency[services.OrderService],
    ) -> EncodedJSON[schemas.Order]:
        return EncodedJSON.written(await service.update(item_id, data))

    @routes.delete(
        ASYNC,
        "/{item_id:int}",
        summary="Delete a sale order",
        description=descriptions.DELETE_ORDER,
        problems=[404],
    )
    async def delete_order(self, item_id: ItemId, service: NamedDependency[services.OrderService]) -> Response[None]:
        return deleted(await service.delete(item_id))


CONTROLLERS = [ContactController, ProductController, TagController, OrderController]
