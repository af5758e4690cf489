"""Output bindings: Event Grid posts to the topic, queue messages in base64."""

from __future__ import annotations

import base64
import json

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient

from devhost.invoker import FunctionInvocationError
from devhost.outputs import OutputError
from tests.devhost.conftest import StartHost
from tests.devhost.support import TOPIC_KEY, EventGridSink, free_port, queue_message

NOTIFY_INPUT = json.dumps({"step": "one", "tag": "t1"})


class TestEventGridOutput:
    def test_event_is_posted_with_the_topic_key(
        self, start_host: StartHost, topic: EventGridSink
    ) -> None:
        """The activity's event is POSTed as an Event Grid array with aeg-sas-key."""
        host = start_host(start_listeners=False)
        result = host.call(host.host.run_activity("notify", NOTIFY_INPUT))
        assert json.loads(result) == "notified one"
        (post,) = topic.posts
        assert post.path == "/api/events"
        assert post.query == {"api-version": ["2018-01-01"]}
        assert post.headers["aeg-sas-key"] == TOPIC_KEY
        assert post.headers["content-type"].startswith("application/json")
        (event,) = post.body
        assert event["eventType"] == "Sample.StepDone"
        assert event["subject"] == "sample/one"
        assert event["data"] == {"step": "one", "tag": "t1"}
        assert event["dataVersion"] == "1.0"

    def test_failing_topic_fails_the_invocation(
        self, start_host: StartHost, topic: EventGridSink
    ) -> None:
        """A non-2xx answer from the topic fails the invocation with the status."""
        topic.fail_status = 503
        host = start_host(start_listeners=False)
        with pytest.raises(OutputError, match="answered 503"):
            host.call(host.host.run_activity("notify", NOTIFY_INPUT))

    def test_unreachable_topic_fails_the_invocation(
        self, start_host: StartHost, sample_settings: dict[str, str]
    ) -> None:
        """A topic nobody listens on fails the invocation with a connection error."""
        settings = {
            **sample_settings,
            "SAMPLE_TOPIC_ENDPOINT": f"http://127.0.0.1:{free_port()}/api/events",
        }
        host = start_host(settings=settings, start_listeners=False)
        with pytest.raises(OutputError, match="cannot reach topic"):
            host.call(host.host.run_activity("notify", NOTIFY_INPUT))

    def test_unset_topic_setting_is_named(
        self, start_host: StartHost, sample_settings: dict[str, str]
    ) -> None:
        """A missing topic setting fails the invocation naming the setting."""
        settings = {k: v for k, v in sample_settings.items() if k != "SAMPLE_TOPIC_ENDPOINT"}
        host = start_host(settings=settings, start_listeners=False)
        with pytest.raises(OutputError, match="'SAMPLE_TOPIC_ENDPOINT', which is not set"):
            host.call(host.host.run_activity("notify", NOTIFY_INPUT))


class TestQueueOutput:
    def test_output_message_is_base64_encoded(
        self, start_host: StartHost, queues: dict[str, QueueClient]
    ) -> None:
        """A queue output value is stored base64-encoded, as the queue extension writes it."""
        host = start_host(start_listeners=False)
        message = queue_message("m1", b"job-7", dequeue_count=2)
        host.call(host.host.invoke("record_job", message))
        done = queues["done"]
        (stored,) = done.peek_messages(max_messages=5)
        decoded = base64.b64decode(stored.content, validate=True)
        assert json.loads(decoded) == {"job": "job-7", "dequeue_count": 2}

    def test_failed_invocation_sends_nothing(
        self, start_host: StartHost, queues: dict[str, QueueClient]
    ) -> None:
        """Outputs are delivered only when the function succeeds."""
        host = start_host(start_listeners=False)
        message = queue_message("m2", b"please fail")
        with pytest.raises(FunctionInvocationError, match="RuntimeError: marker"):
            host.call(host.host.invoke("record_job", message))
        done = queues["done"]
        with pytest.raises(ResourceNotFoundError, match="QueueNotFound"):
            done.peek_messages(max_messages=5)
