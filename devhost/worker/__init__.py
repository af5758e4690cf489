"""A thin proxy worker: the FunctionRpc transport in front of Microsoft's azure-functions-runtime.

`python -m devhost.worker --host H --port P --workerId W --requestId R` connects to the host's
EventStream and hands every request to the library unchanged (see README.md in this folder).
"""
