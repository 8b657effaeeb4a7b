"""This family's routes: each turns an HTTP request into one call of a service, which Litestar injects.

Services answer with the JSON document already encoded; `EncodedJSON[X]` documents it as the schema `X`.
"""

from litestar import Controller, Response
from litestar.di import NamedDependency
from litestar.params import JSONBody

from sale_orders.domain import limits, schemas
from sale_orders.family import operations
from sale_orders.family._async import services as async_services
from sale_orders.family.params import After, ConsistencyToken, IdempotencyKey, ItemId, Limit
from sale_orders.family.record import ASYNC
from sale_orders.web.encoded import EncodedJSON, deleted

_PAGE = limits.DEFAULT_PAGE_SIZE


class ContactController(Controller):
    path = "/contact"
    dependencies = ASYNC.inject(async_services.ContactService)

    @ASYNC.post(
        "/",
        summary="Create a contact",
        description=operations.CREATE_CONTACT,
        problems=[422],
    )
    async def create_contact(
        self,
        data: JSONBody[schemas.ContactCreate],
        service: NamedDependency[async_services.ContactService],
        idempotency_key: IdempotencyKey = None,
    ) -> EncodedJSON[schemas.Contact]:
        return EncodedJSON.created(await service.create(data, idempotency_key), ASYNC.path + self.path)

    @ASYNC.get(
        "/",
        summary="List contacts, a page at a time",
        description=operations.LIST_CONTACTS,
    )
    async def list_contacts(
        self,
        service: NamedDependency[async_services.ContactService],
        after: After = 0,
        limit: Limit = _PAGE,
        consistency_token: ConsistencyToken = None,
    ) -> EncodedJSON[list[schemas.Contact]]:
        return EncodedJSON(await service.page(after, limit, consistency_token))

    @ASYNC.get(
        "/{item_id:int}",
        summary="Read a contact",
        description=operations.GET_CONTACT,
        problems=[404],
    )
    async def get_contact(
        self,
        item_id: ItemId,
        service: NamedDependency[async_services.ContactService],
        consistency_token: ConsistencyToken = None,
    ) -> EncodedJSON[schemas.Contact]:
        return EncodedJSON(await service.get(item_id, consistency_token))

    @ASYNC.patch(
        "/{item_id:int}",
        summary="Change a contact",
        description=operations.UPDATE_CONTACT,
        problems=[404],
    )
    async def update_contact(
        self,
        item_id: ItemId,
        data: JSONBody[schemas.ContactUpdate],
        service: NamedDependency[async_services.ContactService],
    ) -> EncodedJSON[schemas.Contact]:
        return EncodedJSON.written(await service.update(item_id, data))

    @ASYNC.delete(
        "/{item_id:int}",
        summary="Delete a contact without orders",
        description=operations.DELETE_CONTACT,
        problems=[404, 409],
    )
    async def delete_contact(
        self, item_id: ItemId, service: NamedDependency[async_services.ContactService]
    ) -> Response[None]:
        return deleted(await service.delete(item_id))


class ProductController(Controller):
    path = "/product"
    dependencies = ASYNC.inject(async_services.ProductService)

    @ASYNC.post(
        "/",
        summary="Create a product",
        description=operations.CREATE_PRODUCT,
        problems=[422],
    )
    async def create_product(
        self,
        data: JSONBody[schemas.ProductCreate],
        service: NamedDependency[async_services.ProductService],
        idempotency_key: IdempotencyKey = None,
    ) -> EncodedJSON[schemas.Product]:
        return EncodedJSON.created(await service.create(data, idempotency_key), ASYNC.path + self.path)

    @ASYNC.get(
        "/",
        summary="List products, a page at a time",
        description=operations.LIST_PRODUCTS,
    )
    async def list_products(
        self,
        service: NamedDependency[async_services.ProductService],
        after: After = 0,
        limit: Limit = _PAGE,
        consistency_token: ConsistencyToken = None,
    ) -> EncodedJSON[list[schemas.Product]]:
        return EncodedJSON(await service.page(after, limit, consistency_token))

    @ASYNC.get(
        "/{item_id:int}",
        summary="Read a product",
        description=operations.GET_PRODUCT,
        problems=[404],
    )
    async def get_product(
        self,
        item_id: ItemId,
        service: NamedDependency[async_services.ProductService],
        consistency_token: ConsistencyToken = None,
    ) -> EncodedJSON[schemas.Product]:
        return EncodedJSON(await service.get(item_id, consistency_token))

    @ASYNC.patch(
        "/{item_id:int}",
        summary="Change a product",
        description=operations.UPDATE_PRODUCT,
        problems=[404],
    )
    async def update_product(
        self,
        item_id: ItemId,
        data: JSONBody[schemas.ProductUpdate],
        service: NamedDependency[async_services.ProductService],
    ) -> EncodedJSON[schemas.Product]:
        return EncodedJSON.written(await service.update(item_id, data))

    @ASYNC.delete(
        "/{item_id:int}",
        summary="Delete a product no order uses",
        description=operations.DELETE_PRODUCT,
        problems=[404, 409],
    )
    async def delete_product(
        self, item_id: ItemId, service: NamedDependency[async_services.ProductService]
    ) -> Response[None]:
        return deleted(await service.delete(item_id))


class TagController(Controller):
    path = "/tag"
    dependencies = ASYNC.inject(async_services.TagService)

    @ASYNC.post(
        "/",
        summary="Create a tag",
        description=operations.CREATE_TAG,
        problems=[409, 422],
    )
    async def create_tag(
        self,
        data: JSONBody[schemas.TagCreate],
        service: NamedDependency[async_services.TagService],
        idempotency_key: IdempotencyKey = None,
    ) -> EncodedJSON[schemas.Tag]:
        return EncodedJSON.created(await service.create(data, idempotency_key), ASYNC.path + self.path)

    @ASYNC.get(
        "/",
        summary="List tags, a page at a time",
        description=operations.LIST_TAGS,
    )
    async def list_tags(
        self,
        service: NamedDependency[async_services.TagService],
        after: After = 0,
        limit: Limit = _PAGE,
        consistency_token: ConsistencyToken = None,
    ) -> EncodedJSON[list[schemas.Tag]]:
        return EncodedJSON(await service.page(after, limit, consistency_token))

    @ASYNC.get(
        "/{item_id:int}",
        summary="Read a tag",
        description=operations.GET_TAG,
        problems=[404],
    )
    async def get_tag(
        self,
        item_id: ItemId,
        service: NamedDependency[async_services.TagService],
        consistency_token: ConsistencyToken = None,
    ) -> EncodedJSON[schemas.Tag]:
        return EncodedJSON(await service.get(item_id, consistency_token))

    @ASYNC.patch(
        "/{item_id:int}",
        summary="Rename a tag",
        description=operations.UPDATE_TAG,
        problems=[404, 409],
    )
    async def update_tag(
        self, item_id: ItemId, data: JSONBody[schemas.TagUpdate], service: NamedDependency[async_services.TagService]
    ) -> EncodedJSON[schemas.Tag]:
        return EncodedJSON.written(await service.update(item_id, data))

    @ASYNC.delete(
        "/{item_id:int}",
        summary="Delete a tag no order uses",
        description=operations.DELETE_TAG,
        problems=[404, 409],
    )
    async def delete_tag(self, item_id: ItemId, service: NamedDependency[async_services.TagService]) -> Response[None]:
        return deleted(await service.delete(item_id))


class OrderController(Controller):
    path = "/order"
    dependencies = ASYNC.inject(async_services.OrderService)

    @ASYNC.post(
        "/",
        summary="Create a sale order with its lines and tags",
        description=operations.CREATE_ORDER,
        problems=[409, 422],
    )
    async def create_order(
        self,
        data: JSONBody[schemas.OrderCreate],
        service: NamedDependency[async_services.OrderService],
        idempotency_key: IdempotencyKey = None,
    ) -> EncodedJSON[schemas.Order]:
        return EncodedJSON.created(await service.create(data, idempotency_key), ASYNC.path + self.path)

    @ASYNC.get(
        "/",
        summary="List sale orders with lines and tags, a page at a time",
        description=operations.LIST_ORDERS,
    )
    async def list_orders(
        self,
        service: NamedDependency[async_services.OrderService],
        after: After = 0,
        limit: Limit = _PAGE,
        consistency_token: ConsistencyToken = None,
    ) -> EncodedJSON[list[schemas.Order]]:
        return EncodedJSON(await service.page(after, limit, consistency_token))

    @ASYNC.get(
        "/{item_id:int}",
        summary="Read a sale order",
        description=operations.GET_ORDER,
        problems=[404],
    )
    async def get_order(
        self,
        item_id: ItemId,
        service: NamedDependency[async_services.OrderService],
        consistency_token: ConsistencyToken = None,
    ) -> EncodedJSON[schemas.Order]:
        return EncodedJSON(await service.get(item_id, consistency_token))

    @ASYNC.patch(
        "/{item_id:int}",
        summary="Change a sale order; lines and tags are replaced",
        description=operations.UPDATE_ORDER,
        problems=[404, 409, 422],
    )
    async def update_order(
        self,
        item_id: ItemId,
        data: JSONBody[schemas.OrderUpdate],
        service: NamedDependency[async_services.OrderService],
    ) -> EncodedJSON[schemas.Order]:
        return EncodedJSON.written(await service.update(item_id, data))

    @ASYNC.delete(
        "/{item_id:int}",
        summary="Delete a sale order",
        description=operations.DELETE_ORDER,
        problems=[404],
    )
    async def delete_order(
        self, item_id: ItemId, service: NamedDependency[async_services.OrderService]
    ) -> Response[None]:
        return deleted(await service.delete(item_id))


CONTROLLERS = [ContactController, ProductController, TagController, OrderController]
