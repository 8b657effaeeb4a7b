"""The contract's money validates where people validate: python-jsonschema and ajv, both with default settings.

A `multipleOf: 0.01` on a JSON number is tested in binary floating point by both, and refused 1,363 of the
10,001 valid prices 0.00..100.00; the contract publishes no `multipleOf`, states the two-decimal rule in the
description, and names money by its schema's title. The server still refuses a third decimal (a 400, tested in
tests/live/test_equivalence.py and tests/database/api/test_bad_input.py).
"""

import json
import random
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema

from sale_orders.domain.fields import MONEY_TITLES
from sale_orders.domain.limits import MAX_PRICE
from sale_orders_tools.contract import CONTRACT_PATH
from tests.support import REPO_ROOT
from tests.support.tools import require_tool

CONTRACT = json.loads((REPO_ROOT / CONTRACT_PATH).read_text())
ORDER_LINE = CONTRACT["components"]["schemas"]["OrderLine"]
MAX_CENTS = int(MAX_PRICE * 100)


def prices() -> list[float]:
    """Every price 0.00..100.00, then a dense sample up to 1,000,000.00: the floats that JSON reads them as."""
    rng = random.Random(20)  # noqa: S311 - a fixed sample, not a secret
    cents = set(range(10_001)) | set(range(MAX_CENTS - 10_000, MAX_CENTS + 1))
    cents |= {rng.randrange(MAX_CENTS + 1) for _ in range(100_000)}
    return [float(Decimal(c) / 100) for c in sorted(cents)]


def lines(values: list[float]) -> list[dict[str, Any]]:
    return [{"product_id": 1, "quantity": 1, "price": value} for value in values]


def test_money_schemas_are_titled_and_have_no_multiple_of() -> None:
    price = ORDER_LINE["properties"]["price"]
    amount = CONTRACT["components"]["schemas"]["Order"]["properties"]["amount_total"]
    assert (price["title"], amount["title"]) == MONEY_TITLES
    assert "multipleOf" not in price
    assert "multipleOf" not in amount
    assert "two decimals" in price["description"] or "2 decimals" in price["description"]


def test_python_jsonschema_accepts_every_valid_price() -> None:
    validator = jsonschema.Draft202012Validator(ORDER_LINE)
    refused = [line["price"] for line in lines(prices()) if not validator.is_valid(line)]
    assert refused == []
    # The same validator refuses valid prices under `multipleOf: 0.01`: what the contract must not say.
    with_step = {**ORDER_LINE, "properties": {**ORDER_LINE["properties"]}}
    with_step["properties"]["price"] = {**ORDER_LINE["properties"]["price"], "multipleOf": 0.01}
    stepped = jsonschema.Draft202012Validator(with_step)
    assert sum(not stepped.is_valid(line) for line in lines([c / 100 for c in range(10_001)])) == 1_363


AJV_SCRIPT = """
const Ajv = require("ajv/dist/2020").default;
const fs = require("fs");
const [schema, instances] = JSON.parse(fs.readFileSync(0, "utf8"));
const validate = new Ajv().compile(schema);  // default settings: strict mode, no formats
console.log(JSON.stringify(instances.filter((line) => !validate(line)).map((line) => line.price)));
"""


def _ajv_refused(
    schema: dict[str, Any], instances: list[dict[str, Any]], node_modules: Path, tmp_path: Path
) -> list[float]:
    node = require_tool("node", install="apt-get install nodejs npm")
    script = tmp_path / "validate.cjs"
    script.write_text(AJV_SCRIPT)
    result = subprocess.run(
        [node, str(script)],
        input=json.dumps([schema, instances]),
        capture_output=True,
        text=True,
        check=True,
        env={"NODE_PATH": str(node_modules), "PATH": str(Path(node).parent)},
    )
    refused: list[float] = json.loads(result.stdout)
    return refused


def test_ajv_accepts_every_valid_price(contract_node_modules: Path, tmp_path: Path) -> None:
    assert _ajv_refused(ORDER_LINE, lines(prices()), contract_node_modules, tmp_path) == []
    with_step = {**ORDER_LINE, "properties": {**ORDER_LINE["properties"]}}
    with_step["properties"]["price"] = {**ORDER_LINE["properties"]["price"], "multipleOf": 0.01}
    stepped = _ajv_refused(with_step, lines([c / 100 for c in range(10_001)]), contract_node_modules, tmp_path)
    assert len(stepped) == 1_363


def test_both_refuse_what_the_contract_bounds() -> None:
    validator = jsonschema.Draft202012Validator(ORDER_LINE)
    for bad in (-0.01, float(MAX_PRICE) + 0.01, "1.00", True, None):
        assert not validator.is_valid({"product_id": 1, "quantity": 1, "price": bad}), bad
