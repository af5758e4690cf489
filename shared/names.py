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

# The completion topic's identity-based connection: the Event Grid output reads
# `<connection>__topicEndpointUri` and builds its credential from `<connection>__credential`
# and `<connection>__clientId`, so no key is stored anywhere
# (https://learn.microsoft.com/azure/azure-functions/functions-bindings-event-grid-output#identity-based-authentication).
COMPLETION_TOPIC_CONNECTION = "COMPLETION_TOPIC"
SETTING_TOPIC_ENDPOINT = f"{COMPLETION_TOPIC_CONNECTION}__topicEndpointUri"

EVENT_TYPE_PREFIX = "CustomerInsights.InteractionType."

# Must match host.json extensions.http.routePrefix; status URLs are built with it.
ROUTE_PREFIX = "api"
