from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_details import ProblemDetails
from ...models.product import Product
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    after: int | Unset = 0,
    limit: int | Unset = 20,
    consistency_token: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(consistency_token, Unset):
        headers["Consistency-Token"] = consistency_token

    params: dict[str, Any] = {}

    params["after"] = after

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/async/product",
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ProblemDetails | list[Product] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = Product.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

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
) -> Response[ProblemDetails | list[Product]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    after: int | Unset = 0,
    limit: int | Unset = 20,
    consistency_token: str | Unset = UNSET,
) -> Response[ProblemDetails | list[Product]]:
    """List products, a page at a time

     A page of products in id order: `after` is the last id of the previous page (0 for the first),
    `limit` the page size. A page shorter than `limit` is the last.

    Args:
        after (int | Unset): return items with an id greater than this: the last id of the
            previous page; 0 for the first Default: 0.
        limit (int | Unset): page size, at most 100; a shorter page is the last one Default: 20.
        consistency_token (str | Unset): read-your-writes: the newest `Consistency-Token` this
            client's writes were answered with. A standby answers the read only once it has every
            transaction up to it, otherwise the primary does; without it a standby may answer if it is
            at most MAX_STALENESS_MS behind. The SDK sends it by itself. Given twice, a 400.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetails | list[Product]]
    """

    kwargs = _get_kwargs(
        after=after,
        limit=limit,
        consistency_token=consistency_token,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    after: int | Unset = 0,
    limit: int | Unset = 20,
    consistency_token: str | Unset = UNSET,
) -> ProblemDetails | list[Product] | None:
    """List products, a page at a time

     A page of products in id order: `after` is the last id of the previous page (0 for the first),
    `limit` the page size. A page shorter than `limit` is the last.

    Args:
        after (int | Unset): return items with an id greater than this: the last id of the
            previous page; 0 for the first Default: 0.
        limit (int | Unset): page size, at most 100; a shorter page is the last one Default: 20.
        consistency_token (str | Unset): read-your-writes: the newest `Consistency-Token` this
            client's writes were answered with. A standby answers the read only once it has every
            transaction up to it, otherwise the primary does; without it a standby may answer if it is
            at most MAX_STALENESS_MS behind. The SDK sends it by itself. Given twice, a 400.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetails | list[Product]
    """

    return sync_detailed(
        client=client,
        after=after,
        limit=limit,
        consistency_token=consistency_token,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    after: int | Unset = 0,
    limit: int | Unset = 20,
    consistency_token: str | Unset = UNSET,
) -> Response[ProblemDetails | list[Product]]:
    """List products, a page at a time

     A page of products in id order: `after` is the last id of the previous page (0 for the first),
    `limit` the page size. A page shorter than `limit` is the last.

    Args:
        after (int | Unset): return items with an id greater than this: the last id of the
            previous page; 0 for the first Default: 0.
        limit (int | Unset): page size, at most 100; a shorter page is the last one Default: 20.
        consistency_token (str | Unset): read-your-writes: the newest `Consistency-Token` this
            client's writes were answered with. A standby answers the read only once it has every
            transaction up to it, otherwise the primary does; without it a standby may answer if it is
            at most MAX_STALENESS_MS behind. The SDK sends it by itself. Given twice, a 400.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetails | list[Product]]
    """

    kwargs = _get_kwargs(
        after=after,
        limit=limit,
        consistency_token=consistency_token,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    after: int | Unset = 0,
    limit: int | Unset = 20,
    consistency_token: str | Unset = UNSET,
) -> ProblemDetails | list[Product] | None:
    """List products, a page at a time

     A page of products in id order: `after` is the last id of the previous page (0 for the first),
    `limit` the page size. A page shorter than `limit` is the last.

    Args:
        after (int | Unset): return items with an id greater than this: the last id of the
            previous page; 0 for the first Default: 0.
        limit (int | Unset): page size, at most 100; a shorter page is the last one Default: 20.
        consistency_token (str | Unset): read-your-writes: the newest `Consistency-Token` this
            client's writes were answered with. A standby answers the read only once it has every
            transaction up to it, otherwise the primary does; without it a standby may answer if it is
            at most MAX_STALENESS_MS behind. The SDK sends it by itself. Given twice, a 400.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetails | list[Product]
    """

    return (
        await asyncio_detailed(
            client=client,
            after=after,
            limit=limit,
            consistency_token=consistency_token,
        )
    ).parsed
