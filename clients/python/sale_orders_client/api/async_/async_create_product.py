from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_details import ProblemDetails
from ...models.product import Product
from ...models.product_create import ProductCreate
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: ProductCreate,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/async/product",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ProblemDetails | Product | None:
    if response.status_code == 201:
        response_201 = Product.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = ProblemDetails.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ProblemDetails.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ProblemDetails.from_dict(response.json())

        return response_403

    if response.status_code == 408:
        response_408 = ProblemDetails.from_dict(response.json())

        return response_408

    if response.status_code == 409:
        response_409 = ProblemDetails.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ProblemDetails.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ProblemDetails.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = ProblemDetails.from_dict(response.json())

        return response_422

    if response.status_code == 431:
        response_431 = ProblemDetails.from_dict(response.json())

        return response_431

    if response.status_code == 503:
        response_503 = ProblemDetails.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ProblemDetails | Product]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ProductCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[ProblemDetails | Product]:
    """Create a product

     Creates a product from its name. Answers 201 with the product and its URL in `Location`. With an
    `Idempotency-Key`, a retry with the same body answers the first product and creates nothing.

    Args:
        idempotency_key (str | Unset): makes a create safe to retry: a retry with the same key and
            body answers 201 with the object created first and creates nothing; the same key with
            another body is a 422. Keys are shared by both families. Printable ASCII without spaces or
            commas; given twice, a 400.
        body (ProductCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetails | Product]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: ProductCreate,
    idempotency_key: str | Unset = UNSET,
) -> ProblemDetails | Product | None:
    """Create a product

     Creates a product from its name. Answers 201 with the product and its URL in `Location`. With an
    `Idempotency-Key`, a retry with the same body answers the first product and creates nothing.

    Args:
        idempotency_key (str | Unset): makes a create safe to retry: a retry with the same key and
            body answers 201 with the object created first and creates nothing; the same key with
            another body is a 422. Keys are shared by both families. Printable ASCII without spaces or
            commas; given twice, a 400.
        body (ProductCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetails | Product
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ProductCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[ProblemDetails | Product]:
    """Create a product

     Creates a product from its name. Answers 201 with the product and its URL in `Location`. With an
    `Idempotency-Key`, a retry with the same body answers the first product and creates nothing.

    Args:
        idempotency_key (str | Unset): makes a create safe to retry: a retry with the same key and
            body answers 201 with the object created first and creates nothing; the same key with
            another body is a 422. Keys are shared by both families. Printable ASCII without spaces or
            commas; given twice, a 400.
        body (ProductCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetails | Product]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ProductCreate,
    idempotency_key: str | Unset = UNSET,
) -> ProblemDetails | Product | None:
    """Create a product

     Creates a product from its name. Answers 201 with the product and its URL in `Location`. With an
    `Idempotency-Key`, a retry with the same body answers the first product and creates nothing.

    Args:
        idempotency_key (str | Unset): makes a create safe to retry: a retry with the same key and
            body answers 201 with the object created first and creates nothing; the same key with
            another body is a 422. Keys are shared by both families. Printable ASCII without spaces or
            commas; given twice, a 400.
        body (ProductCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetails | Product
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
