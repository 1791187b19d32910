"""Python client for warmpool: pooled, kept-alive SSH and HTTP sessions to network devices over gRPC.

    from warmpool_client import Client, errors
    with Client("127.0.0.1:50051") as c:
        r = c.run("core-sw1", ["show version"], privileged=True)
        print(r.results[0].output)

``Client`` is the entry point; ``errors`` holds the typed exceptions; ``pb`` the protobuf messages.
"""
from . import errors, pb
from .client import DEVICE_HEADER, Client

__all__ = ["Client", "errors", "pb", "DEVICE_HEADER", "__version__"]
__version__ = "0.1.0"
