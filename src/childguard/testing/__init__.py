"""Loopback helpers shipped with the package so that tests, benchmarks and the audit's demo target do not
depend on the test folder: real OpenAI-compatible chat servers (`chat_server`) and a TCP proxy that can be
stopped or stalled to play a database or Redis going away (`TcpProxy`). Loopback addresses only."""

from .chat_servers import chat_server
from .proxy import TcpProxy

__all__ = ["TcpProxy", "chat_server"]
