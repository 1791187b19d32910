"""The warmpool.v1 protobuf messages, under one short name::

    from warmpool_client import pb
    req = pb.RunRequest(device="core-sw1", commands=["show version"])

The classes come from the generated modules in ``warmpool_client._gen`` (see generate.sh).
"""
from __future__ import annotations

from google.protobuf import message as _message

from ._gen.warmpool.v1 import admin_pb2, common_pb2, device_proxy_pb2, inventory_pb2

_MODULES = (common_pb2, device_proxy_pb2, inventory_pb2, admin_pb2)

for _module in _MODULES:
    for _name in dir(_module):
        _value = getattr(_module, _name)
        if (isinstance(_value, type) and issubclass(_value, _message.Message)) or _name.startswith("SESSION_MODE_"):
            globals()[_name] = _value
SessionMode = common_pb2.SessionMode

del _module, _name, _value
