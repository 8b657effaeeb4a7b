"""The `Email` field type gives email-validator's answer for every address: its fast path changes nothing."""

from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from sale_orders.domain.fields import Email

EMAIL = TypeAdapter(Email)

local_parts = st.text(alphabet="abcXYZ019.-_+!#'~@\"é()[] \\", max_size=12) | st.sampled_from(
    ["postmaster", "Abuse", "a" * 64, "a" * 65, "x", "a..b", ".a", "a."]
)
labels = st.sampled_from(
    [
        *("example", "EXAMPLE", "ex-ample", "-ex", "ex-", "xn--bcher-kva", "localhost", "local", "invalid", "test"),
        *("com", "c0m", "123", "a" * 63, "a" * 64, "ex_ample", "", "münchen", "onion", "arpa", "co", "Com"),
    ]
)
domains = st.lists(labels, min_size=1, max_size=4).map(".".join)
addresses = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains) | st.text(max_size=30)


def library(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError:
        return None


def field(value: str) -> str | None:
    try:
        return EMAIL.validate_python(value)
    except ValidationError:
        return None


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(addresses)
@example("Ann.Example@Example.COM")  # the domain is lowercased, the local part kept
@example("POSTMASTER@example.com")  # a mailbox name the library lowercases
@example("a@xn--bcher-kva.example")  # IDNA: the library decodes the domain
@example("a@example.local")  # a special-use domain the library refuses
@example(f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 63}.com")  # over 254 characters
def test_the_email_field_answers_as_email_validator(value: str) -> None:
    expected = library(value)
    if expected is not None and len(value) < 3:
        expected = None
    assert field(value) == expected, value
