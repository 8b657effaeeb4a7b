from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_details import ProblemDetails
from ...models.product import Product
from ...types import UNSET, Response, Unset


def _get_kwargs(
    item_id: int,
    *,
    consistency_token: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(consistency_token, Unset):
        headers["Consistency-Token"] = consistency_token

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/sync/product/{item_id}".format(
            item_id=quote(str(item_id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ProblemDetails | Product | None:
    if response.status_code == 200:
        response_200 = Product.from_dict(response.json())

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

    if response.status_code == 404:
        response_404 = ProblemDetails.from_dict(response.json())

        return response_404

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
) -> Response[ProblemDetails | Product]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    item_id: int,
    *,
    client: AuthenticatedClient,
    consistency_token: str | Unset = UNSET,
) -> Response[ProblemDetails | Product]:
    """Read a product

     One product by id; 404 when no product has it.

    Args:
        item_id (int): the resource's id
        consistency_token (str | Unset): read-your-writes: the newest `Consistency-Token` this
            client's writes were answered with. A standby answers the read only once it has every
            transaction up to it, otherwise the primary does; without it a standby may answer if it is
            at most MAX_STALENESS_MS behind. The SDK sends it by itself. Given twice, a 400.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetails | Product]
    """

    kwargs = _get_kwargs(
        item_id=item_id,
        consistency_token=consistency_token,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    item_id: int,
    *,
    client: AuthenticatedClient,
    consistency_token: str | Unset = UNSET,
) -> ProblemDetails | Product | None:
    """Read a product

     One product by id; 404 when no product has it.

    Args:
        item_id (int): the resource's id
        consistency_token (str | Unset): read-your-writes: the newest `Consistency-Token` this
            client's writes were answered with. A standby answers the read only once it has every
            transaction up to it, otherwise the primary does; without it a standby may answer if it is
            at most MAX_STALENESS_MS behind. The SDK sends it by itself. Given twice, a 400.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetails | Product
    """

    return sync_detailed(
        item_id=item_id,
        client=client,
        consistency_token=consistency_token,
    ).parsed


async def asyncio_detailed(
    item_id: int,
    *,
    client: AuthenticatedClient,
    consistency_token: str | Unset = UNSET,
) -> Response[ProblemDetails | Product]:
    """Read a product

     One product by id; 404 when no product has it.

    Args:
        item_id (int): the resource's id
        consistency_token (str | Unset): read-your-writes: the newest `Consistency-Token` this
            client's writes were answered with. A standby answers the read only once it has every
            transaction up to it, otherwise the primary does; without it a standby may answer if it is
            at most MAX_STALENESS_MS behind. The SDK sends it by itself. Given twice, a 400.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetails | Product]
    """

    kwargs = _get_kwargs(
        item_id=item_id,
        consistency_token=consistency_token,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    item_id: int,
    *,
    client: AuthenticatedClient,
    consistency_token: str | Unset = UNSET,
) -> ProblemDetails | Product | None:
    """Read a product

     One product by id; 404 when no product has it.

    Args:
        item_id (int): the resource's id
        consistency_token (str | Unset): read-your-writes: the newest `Consistency-Token` this
            client's writes were answered with. A standby answers the read only once it has every
            transaction up to it, otherwise the primary does; without it a standby may answer if it is
            at most MAX_STALENESS_MS behind. The SDK sends it by itself. Given twice, a 400.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetails | Product
    """

    return (
        await asyncio_detailed(
            item_id=item_id,
            client=client,
            consistency_token=consistency_token,
        )
    ).parsed
