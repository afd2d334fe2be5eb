"""marshmallow fields shared by the domains' schemas."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from core.numbers import parse_decimal

MAX_ID = 2**31 - 1  # ids are PostgreSQL integers (SQLite cannot even bind past 2**63)


def Id(strict: bool = False, **kwargs) -> fields.Integer:  # noqa: N802 - named as a field
    """The id of a stored object: a whole number from 1 up to the largest id there can be
    (a larger one is refused as a field error, never sent to the database)."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


NOT_A_NUMBER = "Not a number: write it like 1 234,50 or 1234.50."


class ExactDecimal(fields.Field):
    """A decimal sent as a string (or an integer), never a float; limited places and range.

    The text is read by :func:`core.numbers.parse_decimal`, as in the CSV files: spaces or
    no-break spaces between thousands, a decimal comma or point ("68 500,00")."""

    def __init__(
        self,
        places: int = 2,
        minimum: Decimal | None = None,
        maximum: Decimal | None = Decimal("1e15"),
        positive: bool = False,
        **kwargs,
    ):
        kwargs["metadata"] = {
            "type": "string",
            "description": f"A decimal as a string, at most {places} decimals. Answers write "
            '"68500.00"; requests may also group thousands with spaces or no-break spaces and '
            'use a decimal comma ("68 500,00"). An integer is accepted, a float is not.',
            **kwargs.get("metadata", {}),
        }
        super().__init__(**kwargs)
        self.places, self.minimum, self.maximum, self.positive = places, minimum, maximum, positive

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return f"{Decimal(value):.{self.places}f}"

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool | float):
            raise ValidationError('Send decimals as strings, e.g. "1234.50" (floats lose cents).')
        try:
            number = parse_decimal(str(value))
        except ValueError:
            number = None
        if number is None:
            raise ValidationError(NOT_A_NUMBER)
        if -number.as_tuple().exponent > self.places:
            raise ValidationError(f"At most {self.places} decimal places.")
        if self.positive and number <= 0:
            raise ValidationError("Must be greater than zero.")
        if self.minimum is not None and number < self.minimum:
            raise ValidationError(f"Must be at least {self.minimum}.")
        if self.maximum is not None and number > self.maximum:
            raise ValidationError(f"Must be at most {self.maximum}.")
        return number


class CommaList(fields.Field):
    """A list given as "a,b,c" in a query string (or as a JSON list)."""

    def __init__(self, inner: fields.Field, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def _deserialize(self, value, attr, data, **kwargs):
        items = value if isinstance(value, list) else str(value).split(",")
        out, errors = [], {}
        for i, item in enumerate(i.strip() for i in items if str(i).strip()):
            try:
                out.append(self.inner.deserialize(item))
            except ValidationError as exc:
                errors[i] = exc.messages
        if errors:
            raise ValidationError(errors)
        return out

    def _serialize(self, value, attr, obj, **kwargs):
        return list(value or [])


class TimeZone(fields.String):
    """An IANA time zone name (Europe/Moscow, Asia/Yekaterinburg...)."""

    def __init__(self, **kwargs):
        kwargs["metadata"] = {
            "description": "An IANA time zone name; the deadlines are read in it.",
            "example": "Asia/Yekaterinburg",
            **kwargs.get("metadata", {}),
        }
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        name = super()._deserialize(value, attr, data, **kwargs)
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(f"Unknown time zone {name!r}.") from None
        return name


def to_utc(moment: dt.datetime | None, zone: str) -> dt.datetime | None:
    """A naive moment is read in the given zone (form inputs); an aware one is converted."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(dt.UTC)


class InputSchema(Schema):
    """Base of every input schema: unknown keys ignored, text trimmed (passwords and keys
    kept exactly as typed), anything but an object refused."""

    KEEP_AS_IS = frozenset({"password", "pem", "signature"})

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def strip_strings(self, data, **kwargs):
        if not isinstance(data, dict):
            raise ValidationError("Expected an object.")
        return {
            k: v.strip() if isinstance(v, str) and k not in self.KEEP_AS_IS else v
            for k, v in data.items()
        }


class QuerySchema(InputSchema):
    """A query string's filters: an empty parameter (a form's blank field) means absent."""

    @pre_load
    def blanks_are_absent(self, data, **kwargs):
        return {k: v for k, v in data.items() if v not in ("", None)}
