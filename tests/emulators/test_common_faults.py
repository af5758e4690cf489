"""Scripted faults: parsing the control body and consuming rules."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from emulators.common import (
    ControlBodyError,
    FaultPlan,
    FaultRule,
    Request,
    parse_control_body,
)


class Budget(BaseModel):
    """A control body whose fields all have defaults."""

    per_hour: int = 10


class TestFaultRule:
    def test_camel_case_body_is_parsed(self) -> None:
        """The control body's camelCase keys map onto the rule."""
        rule = FaultRule.model_validate(
            {"status": 429, "count": 3, "retryAfter": "2", "delaySeconds": 0.5, "methods": ["put"]}
        )
        assert (rule.status, rule.count, rule.retry_after, rule.delay_seconds) == (
            429,
            3,
            "2",
            0.5,
        )
        assert rule.applies_to_method("PUT")
        assert not rule.applies_to_method("GET")

    def test_rule_without_an_effect_is_refused(self) -> None:
        """A fault must answer, stall or drop."""
        with pytest.raises(ValidationError, match="status, delaySeconds or drop"):
            FaultRule.model_validate({"count": 2})

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({"status": 200}, id="success-status"),
            pytest.param({"status": 500, "count": 0}, id="zero-count"),
            pytest.param({"drop": True, "delaySeconds": -1}, id="negative-delay"),
            pytest.param({"status": 500, "colour": "red"}, id="unknown-key"),
        ],
    )
    def test_invalid_rules_are_refused(self, body: dict[str, object]) -> None:
        """Out-of-range values and unknown keys fail validation."""
        with pytest.raises(ValidationError):
            FaultRule.model_validate(body)


class TestFaultPlan:
    def test_rule_applies_count_times_then_is_gone(self) -> None:
        """A rule with count 2 matches two requests, then nothing."""
        plan: FaultPlan[FaultRule] = FaultPlan()
        plan.add(FaultRule(status=503, count=2))
        taken = [plan.take(lambda _: True) for _ in range(3)]
        assert [rule.status if rule else None for rule in taken] == [503, 503, None]

    def test_rules_are_consumed_in_order_and_skipped_when_not_matching(self) -> None:
        """The first rule the predicate accepts is used; others wait."""
        plan: FaultPlan[FaultRule] = FaultPlan()
        plan.add(FaultRule(status=500, methods=frozenset({"PUT"})))
        plan.add(FaultRule(status=503))
        first = plan.take(lambda rule: rule.applies_to_method("GET"))
        second = plan.take(lambda rule: rule.applies_to_method("PUT"))
        assert (first and first.status, second and second.status) == (503, 500)

    def test_clear_drops_pending_rules(self) -> None:
        """After clear() nothing matches."""
        plan: FaultPlan[FaultRule] = FaultPlan()
        plan.add(FaultRule(drop=True))
        plan.clear()
        assert plan.take(lambda _: True) is None


class TestParseControlBody:
    def test_empty_body_means_defaults(self) -> None:
        """No body validates as `{}`, so every field takes its default."""
        budget = parse_control_body(Request("PUT", "/", body=b""), Budget)
        assert budget.per_hour == 10

    def test_problems_are_listed_by_field(self) -> None:
        """The message names each field and what is wrong with it, without pydantic links."""
        with pytest.raises(ControlBodyError) as caught:
            parse_control_body(Request("POST", "/", body=b'{"count": 0, "x": 1}'), FaultRule)
        message = str(caught.value)
        assert "count: Input should be greater than or equal to 1" in message
        assert "x: Extra inputs are not permitted" in message
        assert "https://" not in message

    def test_malformed_json_is_reported(self) -> None:
        """A body that is not JSON says so, with the position."""
        with pytest.raises(ControlBodyError, match=r"not valid JSON: .*line 1"):
            parse_control_body(Request("POST", "/", body=b"{oops"), FaultRule)
