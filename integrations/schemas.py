"""What the API takes and answers, as pydantic models: the validation (one message per
field) and the OpenAPI schema at /api/schema come from these."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("99999.99"), decimal_places=2, strict=False)]


class Strict(Schema):
    # No "2" for 2 or "true" for true, and no field the API does not know: an integration's
    # mistake is a 400 naming it, not a guess.
    model_config = ConfigDict(strict=True, extra="forbid")


class ItemIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    category: Text | None = Field(None, description="A category's name, as in the admin.")
    size: Text = ""
    temperature: Text = ""
    sugar: Text = ""
    toppings: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                    max_length=30)]] = Field(
        default_factory=list, max_length=20
    )  # fmt: skip
    quantity: int = Field(1, ge=1, le=999)
    # Strings ("15.00") or numbers: JSON numbers are not exact, so strings are better.
    unit_price: Money = Field(json_schema_extra={"examples": ["15.00"]})


class OrderIn(Strict):
    items: list[ItemIn] = Field(min_length=1, max_length=100)
    order_type: Literal["dine_in", "takeaway", "delivery"] = "dine_in"
    delivery_platform: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] = ""
    platform_order_no: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    note: Annotated[str, StringConstraints(max_length=500)] = ""
    customer_phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] = ""
    confirm: bool = Field(False, description="Confirm at once: the tickets print now.")
    total_amount: Money | None = Field(
        None, description="Optional: checked against the server's sum of the items."
    )


class ItemOut(Schema):
    name: str
    category: str | None
    size: str
    temperature: str
    sugar: str
    toppings: list[str]
    quantity: int
    unit_price: str
    line_total: str


class TicketOut(Schema):
    job_id: int
    job_type: str
    status: str
    printer: str | None
    copies: int
    reprint: bool
    created_at: datetime
    completed_at: datetime | None


class OrderOut(Schema):
    id: int
    status: str
    pickup_number: str
    total_amount: str
    order_type: str
    delivery_platform: str
    platform_order_no: str
    customer_phone: str
    note: str
    created_at: datetime
    confirmed_at: datetime | None
    items: list[ItemOut]
    tickets: list[TicketOut]


class ReprintIn(Strict):
    printers: list[int | str] | None = Field(
        None, description="Printer ids or names; none: the receipt printers.", max_length=20
    )


class ReprintOut(Schema):
    order: OrderOut
    job_ids: list[int]


class WebhookIn(Strict):
    url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
    secret: str
    events: list[str] = Field(max_length=20)
    description: Annotated[str, StringConstraints(max_length=200)] = ""


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str
    is_active: bool
    created_at: datetime
    failing_since: datetime | None
    disabled_at: datetime | None


class Error(Schema):
    error: str
    message: str
    fields: dict[str, str] | None = None
