"""The Functions language-worker protocol (FunctionRpc over gRPC) between devhost and its worker."""
