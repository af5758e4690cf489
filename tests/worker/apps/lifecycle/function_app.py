"""A tiny app for the worker lifecycle tests: who runs me, how long, on which thread."""

import os
import threading
import time

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="whoami", methods=["GET"])
def whoami(req: func.HttpRequest) -> func.HttpResponse:
    """The worker's process id and the pool thread this call ran on, after `hold` seconds."""
    time.sleep(float(req.params.get("hold", "0")))
    return func.HttpResponse(f"{os.getpid()} {threading.current_thread().name}")
