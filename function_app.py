"""Provision Customer Insights interaction types through ARM from HTTP, queue and Event Grid.

This module only wires blueprints together: the logic lives in `shared/`.
"""

import azure.durable_functions as df
import azure.functions as func

from shared.blueprints import (
    activities,
    eventgrid_intake,
    http_api,
    openapi,
    orchestration,
    queue_intake,
)

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

for blueprint in (
    http_api.bp,
    openapi.bp,
    queue_intake.bp,
    eventgrid_intake.bp,
    orchestration.bp,
    activities.bp,
):
    app.register_functions(blueprint)
