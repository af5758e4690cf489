"""Indexing an app in Microsoft's worker, and what the local host refuses to serve."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from devhost.indexing import IndexingError
from devhost.rpc.worker import WorkerError
from tests.devhost.support import SAMPLE_APP, index_in_worker


def write_app(directory: Path, source: str) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "function_app.py").write_text(textwrap.dedent(source))
    return directory


class TestIndexing:
    def test_sample_functions_and_trigger_types(self) -> None:
        """Every function of the sample app is found with its trigger type."""
        index = index_in_worker(SAMPLE_APP)
        kinds = {name: f.trigger_type for name, f in index.functions.items()}
        assert kinds == {
            "hello": "httpTrigger",
            "ping": "httpTrigger",
            "restricted": "httpTrigger",
            "record_job": "queueTrigger",
            "on_event": "eventGridTrigger",
            "notify": "activityTrigger",
            "notify_twice": "orchestrationTrigger",
            "linger": "activityTrigger",
            "lingering": "orchestrationTrigger",
            "start_orchestration": "httpTrigger",
        }

    def test_binding_metadata_is_kept(self) -> None:
        """Binding names, directions and properties are those the worker reports."""
        index = index_in_worker(SAMPLE_APP)
        job = index["record_job"]
        assert job.trigger.name == "msg"
        assert job.trigger.get("queueName") == "%SAMPLE_JOBS_QUEUE%"
        assert [(b.type, b.name, b.direction) for b in job.outputs] == [("queue", "done", "OUT")]
        notify = index["notify"]
        (event_out,) = notify.outputs
        assert event_out.get("topicEndpointUri") == "SAMPLE_TOPIC_ENDPOINT"
        assert event_out.get("topicKeySetting") == "SAMPLE_TOPIC_KEY"
        hello = index["hello"]
        assert hello.trigger.get("route") == "hello/{name}"
        assert hello.trigger.get("authLevel") == "FUNCTION"
        assert index["ping"].trigger.get("authLevel") == "ANONYMOUS"
        assert index["restricted"].trigger.get("authLevel") == "ADMIN"
        starter = index["start_orchestration"]
        assert [b.type for b in starter.inputs] == ["durableClient"]

    def test_two_function_apps_are_refused(self, tmp_path: Path) -> None:
        """The worker refuses a file with two FunctionApps, and the host says so."""
        app_dir = write_app(
            tmp_path / "two",
            """
            import azure.functions as func
            app = func.FunctionApp()
            other_app = func.FunctionApp()
            """,
        )
        with pytest.raises(WorkerError, match=r"indexing the app failed: .*FunctionApp"):
            index_in_worker(app_dir)

    def test_file_without_app_is_refused(self, tmp_path: Path) -> None:
        """A function_app.py without a FunctionApp gets a clear error."""
        app_dir = write_app(tmp_path / "none", "GREETING = 'hello'\n")
        with pytest.raises(WorkerError, match="indexing the app failed"):
            index_in_worker(app_dir)

    def test_import_error_is_reported(self, tmp_path: Path) -> None:
        """An exception while importing the app is reported with its message."""
        app_dir = write_app(tmp_path / "broken", "raise RuntimeError('bad config')\n")
        with pytest.raises(WorkerError, match="RuntimeError: bad config"):
            index_in_worker(app_dir)

    def test_unsupported_trigger_is_refused(self, tmp_path: Path) -> None:
        """A trigger the local host cannot run fails at start instead of being ignored."""
        app_dir = write_app(
            tmp_path / "timer",
            """
            import azure.functions as func
            app = func.FunctionApp()

            @app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer")
            def tick(timer: func.TimerRequest) -> None:
                pass
            """,
        )
        with pytest.raises(IndexingError, match="trigger 'timerTrigger' is not supported"):
            index_in_worker(app_dir)

    def test_parameter_without_binding_is_refused_by_the_worker(self, tmp_path: Path) -> None:
        """A parameter with no binding fails indexing in the worker, naming it."""
        app_dir = write_app(
            tmp_path / "unbound",
            """
            import azure.functions as func
            app = func.FunctionApp()

            @app.route(route="x")
            def x(req: func.HttpRequest, extra: str) -> func.HttpResponse:
                return func.HttpResponse("x")
            """,
        )
        with pytest.raises(WorkerError, match="extra"):
            index_in_worker(app_dir)
