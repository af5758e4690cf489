# mypy: disallow-untyped-decorators=False
# (The Functions and Durable SDK decorators are untyped, as for the app at the repo root.)
"""The worker-hop benchmark's app: two functions that do next to nothing.

Whatever an invocation of these costs is the cost of getting there and back.
"""

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="ping", methods=["GET", "POST"])
def ping(req: func.HttpRequest) -> func.HttpResponse:
    """Answer with the request's body, or `pong`."""
    return func.HttpResponse(req.get_body() or b"pong", mimetype="text/plain")


@app.activity_trigger(input_name="value")
def echo(value: str) -> str:
    """Return the activity's input."""
    return value
