"""The stand-in's AMQP side: a proton handler that accepts the azure-servicebus SDK's
connections and links and turns transfers, flow and dispositions into broker calls.

    container = Container(AmqpHandler(Broker(), "127.0.0.1", 5672))
    container.run()
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from proton import Condition, Delivery, Disposition, Endpoint, Handler, Link, Message, Session
from proton.reactor import Container

from local.servicebus import codec
from local.servicebus.broker import Broker, LockLost, Outcome
from local.servicebus.delivery_ids import renumber_incoming
from local.servicebus.management import handle_cbs, handle_management

log = logging.getLogger(__name__)

CBS_NODE = "$cbs"
MANAGEMENT_SUFFIX = "/$management"
# Credit granted to each sending client, topped up once it falls below half.
SENDER_CREDIT = 1000
# Service Bus Standard's message size limit; the SDK sizes its batches from it.
MAX_MESSAGE_BYTES = 256 * 1024
SESSION_FILTER = "com.microsoft:session-filter"
DEAD_LETTER_CONDITION = "com.microsoft:dead-letter"
LOCK_LOST_CONDITION = "com.microsoft:message-lock-lost"
NOT_IMPLEMENTED_CONDITION = "amqp:not-implemented"


def entity_path(address: str | None) -> str:
    """`amqps://host/queue/$DeadLetterQueue/$management` names the node
    `queue/$deadletterqueue/$management`: no scheme or host, `$` parts in lower case."""
    address = address or ""
    if "://" in address:
        address = address.split("://", 1)[1].partition("/")[2]
    parts = [p.lower() if p.startswith("$") else p for p in address.strip("/").split("/")]
    return "/".join(parts)


def _survives(method: Callable[..., None]) -> Callable[..., None]:
    """Log a failure in one event and keep serving: one odd client must not stop a test run."""

    @functools.wraps(method)
    def guarded(self: Any, event: Any) -> None:
        try:
            method(self, event)
        except Exception:
            log.exception("%s failed; the stand-in carries on", method.__name__)

    return guarded


class AmqpHandler(Handler):
    """One handler for every connection; the broker is only touched from the proton thread."""

    def __init__(
        self, broker: Broker, host: str, port: int, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        self.broker = broker
        self.host = host
        self.port = port
        self.clock = clock
        self.container: Container | None = None
        # Receivers' links, per queue; rotated so competing receivers take turns.
        self.consumers: dict[str, list[Link]] = {}
        # Our sending end of each request/response pair, by (session, node).
        self.reply_links: dict[tuple[Session, str], Link] = {}
        self._timer = None
        self._timer_due: float | None = None

    def on_reactor_init(self, event) -> None:
        self.container = event.container
        event.container.listen(f"{self.host}:{self.port}")
        log.info("Service Bus stand-in listening on %s:%d", self.host, self.port)

    def on_connection_init(self, event) -> None:
        # The SDK's emulator mode speaks plain AMQP without a SASL layer.
        event.transport.sasl().allow_insecure_mechs = True
        # The SDK may repeat a delivery-id when it sends on one session concurrently.
        renumber_incoming(event.transport)

    def on_connection_remote_open(self, event) -> None:
        if event.connection.state & Endpoint.LOCAL_UNINIT:
            event.connection.open()

    def on_session_remote_open(self, event) -> None:
        if event.session.state & Endpoint.LOCAL_UNINIT:
            event.session.open()

    @_survives
    def on_link_remote_open(self, event) -> None:
        link = event.link
        if not link.state & Endpoint.LOCAL_UNINIT:
            return
        link.source.copy(link.remote_source)
        link.target.copy(link.remote_target)
        link.snd_settle_mode = link.remote_snd_settle_mode
        link.rcv_settle_mode = link.remote_rcv_settle_mode
        if link.is_sender:
            self._open_sending_link(link)
        else:
            link.max_message_size = MAX_MESSAGE_BYTES
            link.open()
            link.flow(SENDER_CREDIT)

    def _open_sending_link(self, link: Link) -> None:
        node = entity_path(link.remote_source.address)
        if node == CBS_NODE or node.endswith(MANAGEMENT_SUFFIX):
            self.reply_links[(link.session, node)] = link
            link.open()
            return
        if SESSION_FILTER in _filter_keys(link):
            # Limitation: session receivers are refused, so session-enabled queues cannot be
            # tried locally.
            link.condition = Condition(
                NOT_IMPLEMENTED_CONDITION, "sessions are not modelled by the stand-in"
            )
            link.open()
            link.close()
            return
        link.open()
        link.paused = False
        self.consumers.setdefault(node, []).append(link)
        self.broker.queue(node)
        log.debug("receiver attached to %s", node)

    @_survives
    def on_link_flow(self, event) -> None:
        link = event.link
        if link.is_sender:
            node = entity_path(link.remote_source.address)
            if link in self.consumers.get(node, ()):
                link.paused = False
                self._dispatch(node)

    @_survives
    def on_delivery(self, event) -> None:
        delivery = event.delivery
        if delivery.link.is_receiver:
            self._on_transfer(delivery)
        elif delivery.updated or delivery.settled:
            # A receiver settling first (ReceiverSettleMode.First) sends its outcome settled.
            self._on_disposition(delivery)

    @_survives
    def on_link_remote_close(self, event) -> None:
        self._forget_link(event.link)
        if not event.link.state & Endpoint.LOCAL_CLOSED:
            event.link.close()

    def on_session_remote_close(self, event) -> None:
        if not event.session.state & Endpoint.LOCAL_CLOSED:
            event.session.close()

    @_survives
    def on_connection_remote_close(self, event) -> None:
        self._forget_connection(event.connection)
        if not event.connection.state & Endpoint.LOCAL_CLOSED:
            event.connection.close()

    @_survives
    def on_transport_closed(self, event) -> None:
        if event.connection is not None:
            self._forget_connection(event.connection)

    @_survives
    def on_timer_task(self, event) -> None:
        self._timer = None
        self._timer_due = None
        for queue_name in self.broker.advance(self.clock()):
            self._dispatch(queue_name)
        self._arm_timer()

    def _on_transfer(self, delivery: Delivery) -> None:
        if delivery.partial or not delivery.readable:
            return
        link = delivery.link
        raw = link.recv(delivery.pending)
        link.advance()
        node = entity_path(link.remote_target.address)

        if node == CBS_NODE:
            self._reply(link.session, node, handle_cbs(_decode(raw)))
        elif node.endswith(MANAGEMENT_SUFFIX):
            queue_name = node.removesuffix(MANAGEMENT_SUFFIX)
            response, changed = handle_management(
                self.broker, queue_name, _decode(raw), self.clock()
            )
            self._reply(link.session, node, response)
            for name in changed:
                self._dispatch(name)
        else:
            self._enqueue(node, raw)

        delivery.update(Disposition.ACCEPTED)
        delivery.settle()
        if link.credit < SENDER_CREDIT // 2:
            link.flow(SENDER_CREDIT - link.credit)
        self._arm_timer()

    def _enqueue(self, queue_name: str, raw: bytes) -> None:
        now = self.clock()
        for payload in codec.split_transfer(raw):
            message_id, scheduled_at = codec.routing_fields(payload)
            sequence_number = self.broker.enqueue(
                queue_name, payload, message_id, now, scheduled_at=scheduled_at
            )
            if sequence_number is None:
                log.debug("duplicate message dropped on %s", queue_name)
        self._dispatch(queue_name)

    def _on_disposition(self, delivery: Delivery) -> None:
        """Apply a receiver's outcome, then echo it before settling: the SDK waits for the
        echo and treats a settlement without it as unconfirmed."""
        node = entity_path(delivery.link.remote_source.address)
        # proton decodes tags as UTF-8 text, so the token is kept on the delivery instead.
        lock_token = delivery.lock_token
        state = delivery.remote_state
        remote = delivery.remote
        try:
            if state == Disposition.ACCEPTED:
                self.broker.settle(node, lock_token, Outcome.COMPLETE, self.clock())
            elif state == Disposition.REJECTED:
                info = remote.condition.info if remote.condition else None
                info = info or {}
                self.broker.settle(
                    node,
                    lock_token,
                    Outcome.DEAD_LETTER,
                    self.clock(),
                    reason=info.get(codec.DEAD_LETTER_REASON),
                    description=info.get(codec.DEAD_LETTER_DESCRIPTION),
                )
            elif state == Disposition.MODIFIED and remote.undeliverable:
                # Limitation: deferral is refused; `defer_message` fails against the stand-in.
                delivery.local.condition = Condition(
                    NOT_IMPLEMENTED_CONDITION, "deferral is not modelled by the stand-in"
                )
                state = Disposition.REJECTED
            elif state == Disposition.MODIFIED:
                self.broker.settle(node, lock_token, Outcome.ABANDON, self.clock())
            else:
                self.broker.settle(node, lock_token, Outcome.RELEASE, self.clock())
                # The SDK releases what arrives between two receive calls; sending it straight
                # back on the same credit would bounce it to and fro until the next receive.
                delivery.link.paused = True
        except LockLost as error:
            delivery.local.condition = Condition(LOCK_LOST_CONDITION, str(error))
            state = Disposition.REJECTED

        delivery.update(state)
        delivery.settle()
        self._dispatch(node)
        self._arm_timer()

    def _dispatch(self, queue_name: str) -> None:
        """Hand available messages to the queue's receivers, one each in turn, while they
        have credit."""
        links = self.consumers.get(queue_name)
        if not links:
            return
        ready = [link for link in links if link.credit > 0 and not link.paused]
        while ready:
            for link in list(ready):
                if not self._send_next(queue_name, link):
                    ready = []
                    break
                if link.credit <= 0:
                    ready.remove(link)
        links.append(links.pop(0))
        for link in links:
            if link.drain_mode and link.credit > 0:
                link.drained()

    def _send_next(self, queue_name: str, link: Link) -> bool:
        presettled = link.snd_settle_mode == Link.SND_SETTLED
        if presettled:
            message = self.broker.take_next(queue_name)
            tag = uuid.uuid4()
        else:
            message = self.broker.lock_next(queue_name, self.clock())
            tag = message.lock_token if message is not None else None
        if message is None or tag is None:
            return False

        # The SDK reads the lock token from the tag: UUID(bytes_le=tag).
        delivery = link.delivery(tag.bytes_le)
        delivery.lock_token = tag
        link.send(codec.for_delivery(message))
        link.advance()
        if presettled:
            delivery.settle()
        self._arm_timer()
        return True

    def _reply(self, session: Session, node: str, response: Message) -> None:
        link = self.reply_links.get((session, node))
        if link is None:
            log.warning("no response link for %s: the client attached only a request link", node)
            return
        link.delivery(uuid.uuid4().bytes)
        link.send(bytes(response.encode()))
        link.advance()

    def _arm_timer(self) -> None:
        due = self.broker.next_deadline()
        if due is None or self.container is None:
            return
        if self._timer_due is not None and self._timer_due <= due:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_due = due
        self._timer = self.container.schedule(max(0.0, due - self.clock()), self)

    def _forget_link(self, link: Link) -> None:
        for links in self.consumers.values():
            if link in links:
                links.remove(link)
        for key, reply_link in list(self.reply_links.items()):
            if reply_link == link:
                del self.reply_links[key]

    def _forget_connection(self, connection) -> None:
        for links in self.consumers.values():
            links[:] = [link for link in links if link.connection != connection]
        for key, link in list(self.reply_links.items()):
            if link.connection == connection:
                del self.reply_links[key]


def _filter_keys(link: Link) -> set[str]:
    filters = link.remote_source.filter
    filters.rewind()
    if not filters.next():
        return set()
    value = filters.get_object()
    return {str(key) for key in value} if isinstance(value, dict) else set()


def _decode(raw: bytes) -> Message:
    message = Message()
    message.decode(raw)
    return message
