"""`Interactions_CreateOrUpdate`, `Interactions_Get` and `Interactions_ListByHub`."""

from __future__ import annotations

from emulators.arm import errors, validation
from emulators.arm.constants import DEFAULT_LOCALE, PROVIDER
from emulators.arm.operations import ResourceKey
from emulators.arm.resources import render
from emulators.arm.scenarios import ScenarioBook
from emulators.arm.store import InteractionStore, Names, PutResult
from emulators.arm.wire import (
    OPERATION_RESULTS,
    OPERATION_STATUSES,
    operation_url,
    retry_after_headers,
)
from emulators.common import Clock, Request, Response, empty_response, json_response


class InteractionHandlers:
    """PUT, GET and list on `.../hubs/{hub}/interactions[/{name}]`."""

    def __init__(
        self, *, store: InteractionStore, scenarios: ScenarioBook, location: str, clock: Clock
    ) -> None:
        self._store = store
        self._scenarios = scenarios
        self._location = location
        self._clock = clock

    def put(self, request: Request) -> Response:
        """Validate, store, and answer as the hub's scenario says."""
        names = _names(request)
        validation.check_hub_name(names.hub)
        validation.check_interaction_name(names.name)
        validation.check_json_content_type(request.header("content-type"))
        properties = validation.parse_put_body(request)
        key = ResourceKey.of(names.subscription, names.resource_group, names.hub, names.name)
        validation.check_provisioning_state(properties, self._store.visible_state(key))
        result = self._store.put(key, names, properties, self._scenarios.for_hub(names.hub))
        return self._put_response(request, result)

    def get(self, request: Request) -> Response:
        """The interaction, or 404 while it is absent or hidden."""
        names = _names(request)
        key = ResourceKey.of(names.subscription, names.resource_group, names.hub, names.name)
        record = self._store.get(key)
        if record is None:
            raise errors.resource_not_found(
                f"{PROVIDER}/hubs/{names.hub}/interactions/{names.name}", names.resource_group
            )
        return json_response(200, render(record, locale=_locale(request)))

    def list(self, request: Request) -> Response:
        """Every visible interaction of the hub; one page, no `nextLink`."""
        params = request.params
        validation.check_subscription_id(params["subscription"])
        validation.check_resource_group(params["resource_group"])
        records = self._store.list(params["subscription"], params["resource_group"], params["hub"])
        locale = _locale(request)
        return json_response(200, {"value": [render(record, locale=locale) for record in records]})

    def _put_response(self, request: Request, result: PutResult) -> Response:
        operation = result.operation
        body = render(result.record, locale=None)
        if operation is None:
            return json_response(200, body)
        scenario = operation.scenario
        origin = scenario.location_host or request.base_url
        retry_after = retry_after_headers(scenario, self._clock())
        created_status = 201 if result.created else 200
        if scenario.mode == "location":
            location = operation_url(
                origin, operation.subscription, self._location, OPERATION_RESULTS, operation.id
            )
            return empty_response(202, {"Location": location, **retry_after})
        if scenario.mode == "async-operation":
            status_url = operation_url(
                origin, operation.subscription, self._location, OPERATION_STATUSES, operation.id
            )
            headers = {"Azure-AsyncOperation": status_url, **retry_after}
            return json_response(created_status, body, headers)
        return json_response(created_status, body)


def _names(request: Request) -> Names:
    params = request.params
    validation.check_subscription_id(params["subscription"])
    validation.check_resource_group(params["resource_group"])
    return Names(params["subscription"], params["resource_group"], params["hub"], params["name"])


def _locale(request: Request) -> str:
    return request.query.get("locale-code") or DEFAULT_LOCALE
