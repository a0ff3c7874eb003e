"""Daphne's WebSocket side, guarded: 1009 for big frames, 4029 for floods, 1001 on shutdown.

Daphne's `--websocket-max-message-size` makes autobahn refuse a frame before buffering it,
but autobahn's default `failByDrop` then drops the TCP connection (the client sees 1006).
Turning it off makes autobahn send the proper 1009 close.

Daphne puts every received frame into the application's unbounded input queue before the
consumer's rate limiter sees it, so an unpaced flood grows memory and takes the event loop
from every other socket. `GuardedWebSocketProtocol` gives each connection a frame budget
(`WS_TRANSPORT_RATE`) and a cap on frames queued but not yet consumed
(`WS_MAX_QUEUED_FRAMES`), closing with 4029 when either is exceeded.

On SIGTERM, `GracefulServer` closes every open socket with 1001 (going away) and gives the
consumers `WS_SHUTDOWN_GRACE` seconds to clean up before Daphne cancels them.
"""

from __future__ import annotations

import asyncio
import logging
import time

from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.internet import defer, task

from supportdesk.conf import Rate, app_setting, parse_rate
from supportdesk.metrics import RATE_LIMIT_HITS, WS_CLOSES

# Named, not __name__: run as `python -m supportdesk.serve` that would be "__main__".
logger = logging.getLogger("supportdesk.serve")

MAX_FRAME_BYTES = 64 * 1024
ABUSE_CLOSE_CODE = 4029  # DESIGN.md: repeated abuse
GOING_AWAY_CLOSE_CODE = 1001
# Close codes a server may send (RFC 6455 7.4.1) that autobahn's sendClose() refuses (it only
# takes 1000 and 3000-4999): 1013 "try again later" from supportdesk.degrade, among others.
_SERVER_CLOSE_CODES = frozenset({1001, 1011, 1012, 1013})


class TokenBucket:
    """Allow bursts of ``rate.count`` events, refilled at ``rate.count / rate.seconds`` a second."""

    def __init__(self, rate: Rate, clock=time.monotonic):
        self.capacity = float(rate.count)
        self.refill_per_second = rate.count / rate.seconds
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()

    def take(self) -> bool:
        """Spend one token and return True, or return False when the bucket is empty."""
        now = self._clock()
        elapsed = now - self._updated
        self._updated = now
        self._tokens = min(self.capacity, self._tokens + elapsed * self.refill_per_second)
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class GuardedWebSocketProtocol(WebSocketProtocol):
    """Daphne's WebSocket protocol with a per-connection frame budget and queue cap."""

    _refused = False
    _bucket: TokenBucket | None = None
    _max_queued = 0

    def onOpen(self):  # noqa: N802 (autobahn's name)
        super().onOpen()
        # Read per connection, so a settings change in a test process applies.
        self._bucket = TokenBucket(parse_rate(str(app_setting("WS_TRANSPORT_RATE"))))
        self._max_queued = int(app_setting("WS_MAX_QUEUED_FRAMES"))

    def onMessage(self, payload, isBinary):  # noqa: N802, N803 (autobahn's names)
        if self._refused:
            return  # closing: drop without queueing or decoding
        queue = getattr(self, "application_queue", None)
        queued = queue.qsize() if queue is not None else 0
        if self._bucket is not None and not self._bucket.take():
            self._refuse(f"more than {self._bucket.capacity:.0f} frames in a burst")
            return
        if queued >= self._max_queued > 0:
            self._refuse(f"{queued} frames waiting for the application")
            return
        super().onMessage(payload, isBinary)

    def _refuse(self, why: str) -> None:
        self._refused = True
        RATE_LIMIT_HITS.labels("ws_frame").inc()
        WS_CLOSES.labels(str(ABUSE_CLOSE_CODE)).inc()
        # A client's abuse handled as designed: INFO, not an error.
        logger.info("Closing WebSocket from %s with 4029: %s", self.client_addr, why)
        self.sendClose(code=ABUSE_CLOSE_CODE, reason="too many frames")
        self._hang_up()

    def _hang_up(self) -> None:
        # Stop reading from an abuser: autobahn would otherwise parse (in Python) every frame
        # it keeps flooding until the close handshake times out (closeHandshakeTimeout, 1 s),
        # then drops the connection. Our close frame still goes out, so the client reads 4029.
        self.transport.pauseProducing()

    def serverClose(self, code=None):  # noqa: N802 (Daphne's name)
        if code in _SERVER_CLOSE_CODES:
            # The lower-level call Daphne itself uses for 1011; the handshake stays autobahn's.
            self.sendCloseFrame(code=code, isReply=False)
        else:
            super().serverClose(code)
        if code == ABUSE_CLOSE_CODE:  # the consumer's limiter closed an abuser
            self._refused = True
            self._hang_up()

    def serverSend(self, content, binary=False):  # noqa: N802 (Daphne's name)
        # The consumer may still answer frames queued before a transport close; autobahn
        # raises on a send after close, which would crash the consumer before its clean-up.
        if self.state in (self.STATE_CLOSING, self.STATE_CLOSED):
            logger.debug("Dropping a send on a closing WebSocket %s", self.client_addr)
            return
        super().serverSend(content, binary)


class ClosingWebSocketFactory(WebSocketFactory):
    """A factory whose protocol closes with a status code instead of dropping the socket."""

    protocol = GuardedWebSocketProtocol

    def setProtocolOptions(self, **options):  # noqa: N802 (autobahn's name)
        options["failByDrop"] = False
        super().setProtocolOptions(**options)


class GracefulServer(Server):
    """Daphne's server, closing open WebSockets with 1001 before cancelling applications."""

    def kill_all_applications(self):
        closing = self.close_websockets()
        closing.addBoth(lambda _: self._cancel_remaining())
        return closing

    def _cancel_remaining(self) -> defer.Deferred:
        # Daphne's own version indexes details["application_instance"], which its checker
        # deletes once an instance is done: after the grace period that is the usual case.
        pending = [
            details["application_instance"]
            for details in self.connections.values()
            if details.get("application_instance") is not None
            and not details["application_instance"].done()
        ]
        for instance in pending:
            instance.cancel()
        logger.info("Killed %i pending application instances", len(pending))
        waiting = defer.Deferred.fromFuture(asyncio.gather(*pending))
        waiting.addErrback(lambda _: None)
        return waiting

    def close_websockets(self) -> defer.Deferred:
        """Send 1001 to every open socket; fire once their consumers finished or on timeout."""
        sockets = [
            protocol
            for protocol in list(self.connections)
            if isinstance(protocol, WebSocketProtocol) and protocol.state == protocol.STATE_OPEN
        ]
        for protocol in sockets:
            WS_CLOSES.labels(str(GOING_AWAY_CLOSE_CODE)).inc()
            try:
                # sendClose() refuses 1001 (it allows applications 1000 and 3000-4999 only);
                # the frame-level call sends it as RFC 6455 intends for a server going away.
                protocol.sendCloseFrame(
                    code=GOING_AWAY_CLOSE_CODE, reasonUtf8=b"server shutting down"
                )
            except Exception:
                logger.warning("Could not close %r with 1001", protocol, exc_info=True)
        logger.info("Shutting down: closed %d WebSockets with 1001", len(sockets))
        deadline = time.monotonic() + float(app_setting("WS_SHUTDOWN_GRACE"))

        def settled() -> bool:
            # Done when each socket's consumer ran its disconnect clean-up (or it is gone).
            for protocol in sockets:
                instance = self.connections.get(protocol, {}).get("application_instance")
                if instance is not None and not instance.done():
                    return False
            return True

        finished = defer.Deferred()

        def poll() -> None:
            if settled() or time.monotonic() >= deadline:
                looping.stop()

        from twisted.internet import reactor  # Daphne installed the asyncio reactor by now

        looping = task.LoopingCall(poll)
        looping.clock = reactor
        looping.start(0.05, now=True).addBoth(lambda _: finished.callback(None))
        return finished
