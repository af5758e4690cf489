"""Names shared by the place a function is declared and the places that call it."""

API_VERSION = "2017-04-26"
APP_NAME = "ci-interactions-provisioner"
APP_VERSION = "1.0.0"

# Functions that something outside the app addresses by name (webhook URLs, tests).
EVENTGRID_INTAKE = "eventgrid_intake"
QUEUE_INTAKE = "queue_intake"

ORCHESTRATOR = "provision_interaction"
ACTIVITY_SUBMIT = "submit_put"
ACTIVITY_POLL = "poll_operation"
ACTIVITY_PUBLISH = "publish_completion"

CANCEL_EVENT = "cancel"

REQUEST_QUEUE = "interaction-requests"
REJECTED_QUEUE = "interaction-requests-rejected"
STORAGE_CONNECTION = "AzureWebJobsStorage"

# App setting names (values come from the environment, see shared/settings.py).
SETTING_TOPIC_ENDPOINT = "EVENTGRID_TOPIC_ENDPOINT"
SETTING_TOPIC_KEY = "EVENTGRID_TOPIC_KEY"

EVENT_TYPE_PREFIX = "CustomerInsights.InteractionType."

# Must match host.json extensions.http.routePrefix; status URLs are built with it.
ROUTE_PREFIX = "api"
