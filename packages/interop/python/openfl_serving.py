"""Serving OpenFL 1.9's real AggregatorGRPCServer from a test script: TLS with client
authentication, on loopback, on a free port (retried when another process takes it first), and
stoppable at once on SIGTERM/SIGINT. Shared by openfl_server_fixture.py and openfl_federation.py.
"""

from __future__ import annotations

import os

# openfl.federated imports keras, whose default backend (TensorFlow) is not installed: the venv
# has Keras 3 on JAX. Set before any openfl import, in every process that imports openfl.
os.environ.setdefault("KERAS_BACKEND", "jax")

import logging
import signal
import socket
import threading
from typing import Callable, Optional

from openfl.transport.grpc import aggregator_server as openfl_aggregator_server
from openfl.transport.rest import aggregator_server as openfl_rest_server

log = logging.getLogger("openfl_serving")


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT."""
    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


class CreatedServers:
    """Keeps the grpc.Server objects (gRPC) and werkzeug servers (REST) serve() builds
    internally, so the script can stop them at once instead of waiting for serve()'s 5 s
    all_quit_jobs_sent() poll. The real factories run."""

    def __init__(self) -> None:
        self.servers: list = []
        self.rest_servers: list = []
        real_create = openfl_aggregator_server.create_grpc_server
        real_make = openfl_rest_server.make_server

        def create_and_keep(*a, **kw):
            server = real_create(*a, **kw)
            self.servers.append(server)
            return server

        def make_and_keep(*a, **kw):
            server = real_make(*a, **kw)
            self.rest_servers.append(server)
            return server

        openfl_aggregator_server.create_grpc_server = create_and_keep
        openfl_rest_server.make_server = make_and_keep

    def stop(self, grace: float) -> None:
        for server in self.servers:
            server.stop(grace=grace).wait(grace + 2)
        for server in self.rest_servers:
            # No grace in werkzeug: requests in flight on its threads are cut when the process
            # exits, as they would be when a real aggregator stops.
            server.shutdown()


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def tls_server(aggregator, host: str, port: int, root_ca: str, cert: str, key: str):
    """OpenFL's AggregatorGRPCServer with TLS + client auth, listening on host:port only."""
    server = openfl_aggregator_server.AggregatorGRPCServer(
        aggregator,
        port,
        use_tls=True,
        require_client_auth=True,
        root_certificate=root_ca,
        certificate=cert,
        private_key=key,
    )
    # The real class binds "[::]:<port>"; listen on loopback only.
    server.uri = f"{host}:{port}"
    return server


def rest_tls_server(aggregator, host: str, port: int, root_ca: str, cert: str, key: str):
    """OpenFL's AggregatorRESTServer (transport_protocol: rest) with TLS + client auth, as
    Plan.get_server builds it, listening on host:port."""
    return openfl_rest_server.AggregatorRESTServer(
        aggregator,
        host,
        port,
        use_tls=True,
        require_client_auth=True,
        root_certificate=root_ca,
        certificate=cert,
        private_key=key,
    )


def make_tls_server(protocol: str, aggregator, host, port, root_ca, cert, key):
    """The plan's network.settings.transport_protocol: "grpc" or "rest"."""
    if protocol == "rest":
        return rest_tls_server(aggregator, host, port, root_ca, cert, key)
    return tls_server(aggregator, host, port, root_ca, cert, key)


class ServeFailed(Exception):
    pass


def serve_in_thread(
    host: str,
    requested_port: int,
    make: Callable[[int], tuple[object, threading.Event]],
    stop: threading.Event,
) -> Optional[tuple[object, int, threading.Thread]]:
    """Runs serve() of the server `make(port)` returns in a daemon thread and waits until it
    listens (the event `make` returns is set by the aggregator once serve() got going, or here
    when serve() fails). Port 0: a free port, up to 5 tries. Returns (server, port, thread), or
    None when `stop` was set first; raises ServeFailed when it cannot listen."""
    attempts = 1 if requested_port else 5
    for attempt in range(attempts):
        port = requested_port or free_port(host)
        grpc_server, ready = make(port)
        failure: list[BaseException] = []

        def run(gs=grpc_server, ready=ready, failure=failure):
            try:
                gs.serve()
            except BaseException as e:  # noqa: BLE001 - bind failure etc.
                failure.append(e)
            finally:
                ready.set()

        thread = threading.Thread(target=run, name="openfl-serve", daemon=True)
        thread.start()
        while not ready.wait(0.1):
            if stop.is_set():
                return None
        if not failure:
            return grpc_server, port, thread
        log.error("serve() failed on %s:%d: %r", host, port, failure[0])
        if attempt + 1 == attempts:
            raise ServeFailed(repr(failure[0]))
    raise ServeFailed("no attempt")
