"""Indexing an app the way the Python worker does."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from devhost.indexing import IndexingError, load_function_index
from tests.devhost.support import SAMPLE_APP


def write_app(directory: Path, source: str) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "function_app.py").write_text(textwrap.dedent(source))
    return directory


class TestIndexing:
    def test_sample_functions_and_trigger_types(self) -> None:
        """Every function of the sample app is found with its trigger type."""
        index = load_function_index(SAMPLE_APP)
        kinds = {name: f.trigger_type for name, f in index.functions.items()}
        assert kinds == {
            "hello": "httpTrigger",
            "ping": "httpTrigger",
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
        index = load_function_index(SAMPLE_APP)
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
        starter = index["start_orchestration"]
        assert [b.type for b in starter.inputs] == ["durableClient"]
        assert starter.is_async

    def test_orchestrator_callable_is_the_sdk_handle(self) -> None:
        """An orchestrator is indexed with the SDK handle that takes `context`."""
        handle = load_function_index(SAMPLE_APP)["notify_twice"].user_function
        assert hasattr(handle, "orchestrator_function")

    def test_app_can_be_indexed_again(self) -> None:
        """Each load imports the file afresh, so get_functions() runs once per app object."""
        first = load_function_index(SAMPLE_APP)
        second = load_function_index(SAMPLE_APP)
        assert first.functions.keys() == second.functions.keys()

    def test_two_function_apps_are_refused(self, tmp_path: Path) -> None:
        """A file with two FunctionApps is refused, naming both."""
        app_dir = write_app(
            tmp_path / "two",
            """
            import azure.functions as func
            app = func.FunctionApp()
            other_app = func.FunctionApp()
            """,
        )
        with pytest.raises(
            IndexingError, match=r"exactly one FunctionApp.*found 2: app, other_app"
        ):
            load_function_index(app_dir)

    def test_file_without_app_is_refused(self, tmp_path: Path) -> None:
        """A function_app.py without a FunctionApp gets a clear error."""
        app_dir = write_app(tmp_path / "none", "GREETING = 'hello'\n")
        with pytest.raises(IndexingError, match="found 0: none"):
            load_function_index(app_dir)

    def test_missing_file_is_named(self, tmp_path: Path) -> None:
        """An app folder without function_app.py is reported with the path."""
        with pytest.raises(IndexingError, match=r"function_app\.py not found"):
            load_function_index(tmp_path)

    def test_import_error_is_reported(self, tmp_path: Path) -> None:
        """An exception while importing the app is reported with its message."""
        app_dir = write_app(tmp_path / "broken", "raise RuntimeError('bad config')\n")
        with pytest.raises(IndexingError, match="RuntimeError: bad config"):
            load_function_index(app_dir)

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
            load_function_index(app_dir)

    def test_orchestrator_context_name_must_be_context(self, tmp_path: Path) -> None:
        """An orchestrator whose context is not named `context` is refused (SDK pitfall 8)."""
        app_dir = write_app(
            tmp_path / "ctx",
            """
            import azure.durable_functions as df
            app = df.DFApp()

            @app.orchestration_trigger(context_name="ctx")
            def orchestrate(ctx):
                yield ctx.call_activity("a", None)
            """,
        )
        with pytest.raises(IndexingError, match="context_name must be 'context', not 'ctx'"):
            load_function_index(app_dir)

    def test_parameter_without_binding_is_refused(self, tmp_path: Path) -> None:
        """A parameter the host would not fill is reported at indexing, not at first call."""
        app_dir = write_app(
            tmp_path / "context",
            """
            import azure.functions as func
            app = func.FunctionApp()

            @app.route(route="x")
            def x(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
                return func.HttpResponse("x")
            """,
        )
        with pytest.raises(IndexingError, match=r"parameter\(s\) context have no binding"):
            load_function_index(app_dir)
