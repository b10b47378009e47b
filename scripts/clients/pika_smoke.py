#!/usr/bin/python3
"""Smoke test of an AMQP 0-9-1 broker with Python's pika (1.x).

Usage:
    /usr/bin/python3 pika_smoke.py [URL] [--only check1,check2] [--verbose]

URL defaults to amqp://guest:guest@127.0.0.1:5672/%2F.  Every check opens its
own connection(s), so one failure does not cascade into the next check.  Each
check prints PASS or FAIL with details; the last line is "N passed, M failed"
and the exit status is non-zero if any check failed.

Run it against RabbitMQ first: every check passes there.
"""

import datetime
import decimal
import logging
import os
import signal
import sys
import time
import traceback
import uuid

import pika
import pika.exceptions as pex
from pika.exchange_type import ExchangeType

CHECK_TIMEOUT = 40  # seconds; a check that takes longer is a FAIL (hang)

URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
RUN_ID = uuid.uuid4().hex[:8]


def name(kind):
    """A name unique to this run, so reruns never collide."""
    return "smoke.pika.%s.%s.%s" % (kind, RUN_ID, uuid.uuid4().hex[:6])


class CheckFailed(Exception):
    pass


class Timeout(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def expect_eq(got, want, what):
    if got != want:
        raise CheckFailed("%s: got %r, want %r" % (what, got, want))


class Ctx(object):
    """Per-check resources: connections are closed after the check."""

    def __init__(self):
        self.conns = []
        self.notes = []

    def params(self, **kw):
        p = pika.URLParameters(URL)
        p.connection_attempts = 1
        p.socket_timeout = 10
        p.blocked_connection_timeout = 30
        for k, v in kw.items():
            setattr(p, k, v)
        return p

    def connect(self, **kw):
        c = pika.BlockingConnection(self.params(**kw))
        self.conns.append(c)
        return c

    def note(self, s):
        self.notes.append(s)

    def cleanup(self):
        for c in self.conns:
            try:
                if c.is_open:
                    with alarm(5):
                        c.close()
            except BaseException:  # noqa: B902 - best effort
                pass


class alarm(object):
    """Raise Timeout in the main thread if the block runs too long."""

    def __init__(self, seconds):
        self.seconds = seconds

    def _fire(self, signum, frame):
        raise Timeout("timed out after %ss (no reply from broker?)" % self.seconds)

    def __enter__(self):
        self.old = signal.signal(signal.SIGALRM, self._fire)
        signal.alarm(self.seconds)

    def __exit__(self, *exc):
        signal.alarm(0)
        signal.signal(signal.SIGALRM, self.old)
        return False


CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def wait_count(ch, q, want, seconds=3):
    """Passive-declare q until its message_count == want (publishes are
    asynchronous, so a broker may count them a moment later); return the
    last count seen."""
    deadline = time.time() + seconds
    while True:
        n = ch.queue_declare(q, passive=True).method.message_count
        if n == want or time.time() >= deadline:
            return n
        time.sleep(0.05)


def drain(conn, seconds, until=None):
    """Run the connection's I/O loop for up to `seconds`, or until until()."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        conn.process_data_events(time_limit=0.05)
        if until is not None and until():
            return True
    return until() if until is not None else True


# ---------------------------------------------------------------- checks


@check
def connect_blocking(ctx):
    conn = ctx.connect()
    expect(conn.is_open, "connection not open")
    props = conn._impl.server_properties
    caps = conn._impl.server_capabilities or {}
    ctx.note("server product=%r version=%r" % (props.get("product"), props.get("version")))
    want = ["publisher_confirms", "basic.nack", "consumer_cancel_notify",
            "exchange_exchange_bindings", "per_consumer_qos",
            "connection.blocked", "authentication_failure_close"]
    missing = [c for c in want if caps.get(c) is not True]
    expect(not missing, "server capabilities missing/false: %r (got %r)" % (missing, caps))
    params = conn._impl.params
    ctx.note("negotiated channel_max=%d frame_max=%d heartbeat=%r"
             % (params.channel_max, params.frame_max, params.heartbeat))
    expect(params.frame_max >= 4096, "frame_max %d < 4096" % params.frame_max)
    expect(params.channel_max > 0, "channel_max is 0")


@check
def connect_select(ctx):
    """Asynchronous SelectConnection: open, channel, declare, publish, get, close."""
    state = {"steps": [], "error": None, "body": None}
    q = name("select")

    def fail(msg):
        state["error"] = msg
        try:
            conn.ioloop.stop()
        except Exception:
            pass

    def on_open(c):
        state["steps"].append("open")
        c.channel(on_open_callback=on_channel)

    def on_open_error(c, err):
        fail("connection open failed: %r" % (err,))

    def on_closed(c, reason):
        state["steps"].append("closed")
        if not isinstance(reason, pex.ConnectionClosedByClient):
            state["error"] = state["error"] or "connection closed unexpectedly: %r" % (reason,)
        c.ioloop.stop()

    def on_channel(ch):
        state["steps"].append("channel")
        ch.add_on_close_callback(
            lambda _ch, reason: state["steps"].append("channel-closed:%r" % (reason,)))
        ch.queue_declare(q, exclusive=True, callback=lambda f: on_declared(ch, f))

    def on_declared(ch, frame):
        state["steps"].append("declared")
        if frame.method.queue != q:
            fail("declare-ok queue %r != %r" % (frame.method.queue, q))
            return
        ch.basic_publish("", q, b"select-hello")
        ch.basic_get(q, callback=lambda _ch, m, p, b: on_get(ch, b), auto_ack=True)

    def on_get(ch, body):
        state["steps"].append("got")
        state["body"] = body
        conn.close()

    conn = pika.SelectConnection(ctx.params(), on_open_callback=on_open,
                                 on_open_error_callback=on_open_error,
                                 on_close_callback=on_closed)
    conn.ioloop.call_later(15, lambda: fail("timed out; steps=%r" % state["steps"]))
    conn.ioloop.start()
    expect(state["error"] is None, state["error"] or "")
    expect_eq(state["body"], b"select-hello", "basic_get body")
    expect(state["steps"][-1] == "closed", "steps %r" % state["steps"])


@check
def channel_open_close(ctx):
    conn = ctx.connect()
    chans = [conn.channel() for _ in range(3)]
    nums = [c.channel_number for c in chans]
    expect(len(set(nums)) == 3, "channel numbers not distinct: %r" % nums)
    for c in chans:
        expect(c.is_open, "channel %d not open" % c.channel_number)
    chans[1].close()
    expect(chans[1].is_closed, "channel not closed after close()")
    # the other channels still work
    chans[0].queue_declare("", exclusive=True)
    chans[2].queue_declare("", exclusive=True)
    # reopen a specific channel number
    c = conn.channel(channel_number=nums[1])
    c.queue_declare("", exclusive=True)


@check
def exchange_declare(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    for t in (ExchangeType.direct, ExchangeType.fanout, ExchangeType.topic, ExchangeType.headers):
        x = name("x-" + t.value)
        ch.exchange_declare(x, exchange_type=t.value, durable=False, auto_delete=False)
        ch.exchange_declare(x, exchange_type=t.value)  # idempotent redeclare
        ch.exchange_declare(x, passive=True)
        ch.exchange_delete(x)
    xd = name("x-durable")
    ch.exchange_declare(xd, exchange_type="direct", durable=True)
    ch.exchange_delete(xd, if_unused=True)
    # Declaring an existing exchange with a different type -> 406 PRECONDITION_FAILED.
    x = name("x-mismatch")
    ch.exchange_declare(x, exchange_type="direct")
    try:
        ch.exchange_declare(x, exchange_type="fanout")
        raise CheckFailed("redeclare with different type succeeded; want 406")
    except pex.ChannelClosedByBroker as e:
        expect_eq(e.reply_code, 406, "reply code for type mismatch")
    ch = conn.channel()
    ch.exchange_delete(x)
    # passive declare of a missing exchange -> 404
    try:
        ch.exchange_declare(name("x-missing"), passive=True)
        raise CheckFailed("passive declare of missing exchange succeeded; want 404")
    except pex.ChannelClosedByBroker as e:
        expect_eq(e.reply_code, 404, "reply code for missing exchange")
    expect(conn.is_open, "connection closed after channel error")


@check
def queue_declare(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    # named, non-durable
    q = name("q")
    ok = ch.queue_declare(q)
    expect_eq(ok.method.queue, q, "declare-ok queue name")
    expect_eq((ok.method.message_count, ok.method.consumer_count), (0, 0), "declare-ok counts")
    ch.basic_publish("", q, b"x")
    expect_eq(wait_count(ch, q, 1), 1, "passive declare message_count after 1 publish")
    # server-named
    ok = ch.queue_declare("", exclusive=True)
    sn = ok.method.queue
    expect(sn.startswith("amq.gen-"), "server-named queue %r does not start with amq.gen-" % sn)
    ok2 = ch.queue_declare("", exclusive=True)
    expect(ok2.method.queue != sn, "two server-named queues got the same name")
    # durable
    qd = name("q-durable")
    ch.queue_declare(qd, durable=True)
    ch.queue_declare(qd, durable=True)  # idempotent
    # redeclare with different durability -> 406
    try:
        ch.queue_declare(qd, durable=False)
        raise CheckFailed("redeclare with different durable flag succeeded; want 406")
    except pex.ChannelClosedByBroker as e:
        expect_eq(e.reply_code, 406, "reply code for durable mismatch")
    ch = conn.channel()
    # exclusive queue is locked for other connections -> 405
    qx = name("q-excl")
    ch.queue_declare(qx, exclusive=True)
    other = ctx.connect()
    och = other.channel()
    try:
        och.queue_declare(qx, passive=True)
        raise CheckFailed("other connection could use exclusive queue; want 405")
    except pex.ChannelClosedByBroker as e:
        expect_eq(e.reply_code, 405, "reply code for exclusive queue from other connection")
    # purge and delete report counts
    ch.basic_publish("", q, b"y")
    ok = ch.queue_purge(q)
    expect_eq(ok.method.message_count, 2, "purge-ok message_count")
    ch.basic_publish("", qd, b"z")
    ok = ch.queue_delete(qd)
    expect_eq(ok.method.message_count, 1, "delete-ok message_count")
    ch.queue_delete(q)
    # exclusive queue disappears when its connection closes
    conn.close()
    och = other.channel()
    try:
        och.queue_declare(qx, passive=True)
        raise CheckFailed("exclusive queue %r survived its connection's close" % qx)
    except pex.ChannelClosedByBroker as e:
        expect_eq(e.reply_code, 404, "passive declare of exclusive queue after owner closed")


@check
def bind_unbind(ctx):
    conn = ctx.connect()
    ch = conn.channel()

    def q():
        return ch.queue_declare("", exclusive=True).method.queue


    # direct
    xd = name("x-direct")
    ch.exchange_declare(xd, "direct")
    qa = q()
    ch.queue_bind(qa, xd, routing_key="k1")
    ch.basic_publish(xd, "k1", b"1")
    ch.basic_publish(xd, "k2", b"2")
    expect_eq(wait_count(ch, qa, 1), 1, "direct: messages routed to queue bound with k1")
    ch.queue_unbind(qa, xd, routing_key="k1")
    ch.basic_publish(xd, "k1", b"3")
    time.sleep(0.3)
    expect_eq(wait_count(ch, qa, 1), 1, "direct: count after unbind + publish")
    # fanout
    xf = name("x-fanout")
    ch.exchange_declare(xf, "fanout")
    q1, q2 = q(), q()
    ch.queue_bind(q1, xf)
    ch.queue_bind(q2, xf, routing_key="ignored")
    ch.basic_publish(xf, "whatever", b"f")
    expect_eq((wait_count(ch, q1, 1), wait_count(ch, q2, 1)), (1, 1), "fanout: both queues")
    # topic
    xt = name("x-topic")
    ch.exchange_declare(xt, "topic")
    qs, qh, qe = q(), q(), q()
    ch.queue_bind(qs, xt, routing_key="a.*.c")
    ch.queue_bind(qh, xt, routing_key="a.#")
    ch.queue_bind(qe, xt, routing_key="#.z")
    for rk in ("a.b.c", "a.b.b.c", "a", "a.b", "x.y.z", "z"):
        ch.basic_publish(xt, rk, rk.encode())
    expect_eq(wait_count(ch, qs, 1), 1, "topic a.*.c count (a.b.c only)")
    expect_eq(wait_count(ch, qh, 4), 4, "topic a.# count (a.b.c, a.b.b.c, a, a.b)")
    expect_eq(wait_count(ch, qe, 2), 2, "topic #.z count (x.y.z, z)")
    ch.queue_unbind(qh, xt, routing_key="a.#")
    ch.basic_publish(xt, "a.q", b"after-unbind")
    time.sleep(0.3)
    expect_eq(wait_count(ch, qh, 4), 4, "topic a.# count after unbind")
    # headers
    xh = name("x-headers")
    ch.exchange_declare(xh, "headers")
    qall, qany = q(), q()
    ch.queue_bind(qall, xh, arguments={"x-match": "all", "fmt": "pdf", "type": "report"})
    ch.queue_bind(qany, xh, arguments={"x-match": "any", "fmt": "pdf", "type": "report"})
    pub = lambda h: ch.basic_publish(xh, "", b"h", pika.BasicProperties(headers=h))
    pub({"fmt": "pdf", "type": "report"})  # all + any
    pub({"fmt": "pdf"})  # any
    pub({"fmt": "zip", "type": "log"})  # neither
    pub(None)  # neither
    expect_eq(wait_count(ch, qall, 1), 1, "headers x-match=all count")
    expect_eq(wait_count(ch, qany, 2), 2, "headers x-match=any count")
    ch.queue_unbind(qany, xh, arguments={"x-match": "any", "fmt": "pdf", "type": "report"})
    pub({"fmt": "pdf", "type": "report"})
    expect_eq((wait_count(ch, qall, 2), wait_count(ch, qany, 2)), (2, 2), "headers counts after unbinding any")
    # exchange-to-exchange binding (RabbitMQ extension, advertised capability)
    src, dst = name("x-src"), name("x-dst")
    ch.exchange_declare(src, "direct", auto_delete=False)
    ch.exchange_declare(dst, "fanout", auto_delete=False)
    qx = q()
    ch.queue_bind(qx, dst)
    ch.exchange_bind(destination=dst, source=src, routing_key="e2e")
    ch.basic_publish(src, "e2e", b"via-e2e")
    ch.basic_publish(src, "other", b"no")
    expect_eq(wait_count(ch, qx, 1), 1, "exchange-to-exchange binding routed count")
    ch.exchange_unbind(destination=dst, source=src, routing_key="e2e")
    ch.basic_publish(src, "e2e", b"after")
    time.sleep(0.3)
    expect_eq(wait_count(ch, qx, 1), 1, "count after exchange_unbind")
    for x in (xd, xf, xt, xh, src, dst):
        ch.exchange_delete(x)


ALL_PROPS = dict(
    content_type="application/json",
    content_encoding="utf-8",
    delivery_mode=2,
    priority=5,
    correlation_id="corr-123",
    reply_to="reply.queue",
    expiration="60000",
    message_id="msg-456",
    timestamp=1700000000,
    type="smoke.type",
    user_id="guest",  # must equal the authenticated user (RabbitMQ validates it)
    app_id="pika-smoke",
    cluster_id="cluster-x",
)

HEADERS = {
    "str": "value",
    "bytes": b"\x00\x01binary",
    "int": 42,
    "neg": -7,
    "big": 2 ** 40,
    "bool_t": True,
    "bool_f": False,
    "decimal": decimal.Decimal("3.14"),
    "ts": datetime.datetime(2024, 1, 2, 3, 4, 5),
    "nested": {"a": 1, "b": "two", "c": {"d": [1, "x"]}},
    "list": [1, "two", True, None],
    "none": None,
    "unicode": "h\u00e9llo \u2603",
}


def check_props(p, what):
    for k, v in ALL_PROPS.items():
        expect_eq(getattr(p, k), v, "%s property %s" % (what, k))
    h = p.headers or {}
    for k, v in HEADERS.items():
        got = h.get(k, "<missing>")
        if k == "bytes" and isinstance(got, (str, bytes)):
            got = got.encode("latin-1") if isinstance(got, str) else got
        expect_eq(got, v, "%s header %r" % (what, k))


@check
def publish_properties(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    props = pika.BasicProperties(headers=HEADERS, **ALL_PROPS)
    ch.basic_publish("", q, b'{"hello": "world"}', properties=props)
    m, p, body = ch.basic_get(q, auto_ack=True)
    expect(m is not None, "basic_get returned nothing")
    expect_eq(body, b'{"hello": "world"}', "body")
    expect_eq((m.exchange, m.routing_key, m.redelivered), ("", q, False), "get-ok exchange/rk/redelivered")
    check_props(p, "basic_get")
    # and via a consumer
    ch.basic_publish("", q, b"again", properties=props)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: (got.append((m, p, b)), c.basic_ack(m.delivery_tag)))
    drain(conn, 5, lambda: got)
    expect(got, "consumer got nothing")
    check_props(got[0][1], "consumer")
    # empty body and no properties at all
    ch2 = conn.channel()
    q2 = ch2.queue_declare("", exclusive=True).method.queue
    ch2.basic_publish("", q2, b"")
    m, p, body = ch2.basic_get(q2, auto_ack=True)
    expect(m is not None, "empty-body message not received")
    expect_eq(body, b"", "empty body")


@check
def consume_manual_ack(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q = name("q-consume")
    ch.queue_declare(q, auto_delete=False)
    n = 20
    for i in range(n):
        ch.basic_publish("", q, str(i).encode())
    got = []

    def on_msg(c, m, p, b):
        got.append((m.delivery_tag, m.redelivered, b))
        c.basic_ack(m.delivery_tag)

    tag = ch.basic_consume(q, on_msg, auto_ack=False)
    expect(tag in ch.consumer_tags, "consumer tag not registered")
    drain(conn, 10, lambda: len(got) >= n)
    expect_eq(len(got), n, "deliveries received")
    expect_eq([b for _, _, b in got], [str(i).encode() for i in range(n)], "delivery order")
    tags = [t for t, _, _ in got]
    expect_eq(tags, list(range(1, n + 1)), "delivery tags")
    expect(not any(r for _, r, _ in got), "redelivered flag set on first delivery")
    ch.basic_cancel(tag)
    expect(tag not in ch.consumer_tags, "consumer tag still registered after cancel")
    expect_eq(wait_count(ch, q, 0), 0, "message_count after acks")
    ok = ch.queue_declare(q, passive=True)
    expect_eq(ok.method.consumer_count, 0, "consumer_count after cancel")
    # consume() generator API, ack multiple
    for i in range(3):
        ch.basic_publish("", q, b"g%d" % i)
    last = None
    seen = 0
    for m, p, b in ch.consume(q, inactivity_timeout=5):
        if m is None:
            break
        last = m.delivery_tag
        seen += 1
        if seen == 3:
            break
    expect_eq(seen, 3, "consume() generator deliveries")
    ch.basic_ack(last, multiple=True)
    ch.cancel()
    expect_eq(wait_count(ch, q, 0), 0, "message_count after ack multiple")
    ch.queue_delete(q)


@check
def prefetch_qos(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    for i in range(6):
        ch.basic_publish("", q, str(i).encode())
    ch.basic_qos(prefetch_count=2)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(m.delivery_tag))
    drain(conn, 2)
    expect_eq(len(got), 2, "unacked deliveries with prefetch_count=2")
    ch.basic_ack(got[0])
    drain(conn, 1.5)
    expect_eq(len(got), 3, "deliveries after acking one")
    ch.basic_ack(got[2], multiple=True)
    drain(conn, 1.5)
    expect_eq(len(got), 5, "deliveries after ack multiple of all outstanding")
    # prefetch 0 = unlimited on a new channel
    ch2 = conn.channel()
    q2 = ch2.queue_declare("", exclusive=True).method.queue
    for i in range(10):
        ch2.basic_publish("", q2, b"u")
    ch2.basic_qos(prefetch_count=0)
    got2 = []
    ch2.basic_consume(q2, lambda c, m, p, b: got2.append(m.delivery_tag))
    drain(conn, 3, lambda: len(got2) >= 10)
    expect_eq(len(got2), 10, "deliveries with prefetch_count=0")
    # global qos flag is accepted
    ch2.basic_qos(prefetch_count=5, global_qos=True)


@check
def basic_get(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    m, p, b = ch.basic_get(q)
    expect(m is None, "basic_get on empty queue returned %r" % (m,))
    for i in range(3):
        ch.basic_publish("", q, b"m%d" % i)
    m, p, b = ch.basic_get(q, auto_ack=False)
    expect_eq(b, b"m0", "first get body")
    expect_eq(m.message_count, 2, "get-ok message_count (remaining)")
    ch.basic_ack(m.delivery_tag)
    m, p, b = ch.basic_get(q, auto_ack=True)
    expect_eq(b, b"m1", "second get body (auto_ack)")
    expect_eq(m.message_count, 1, "second get-ok message_count")
    m2, p, b = ch.basic_get(q, auto_ack=False)
    expect_eq(b, b"m2", "third get body")
    expect(m2.delivery_tag > m.delivery_tag, "delivery tags not increasing")
    expect_eq(m2.message_count, 0, "third get-ok message_count")
    m, p, b = ch.basic_get(q)
    expect(m is None, "queue not empty after 3 gets")
    # unacked message returns to the queue when its channel closes
    ch.close()
    ch = conn.channel()
    m, p, b = ch.basic_get(q, auto_ack=True)
    expect(m is not None, "unacked message not requeued on channel close")
    expect_eq((b, m.redelivered), (b"m2", True), "requeued message body/redelivered")


@check
def nack_reject_requeue(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"n")
    m, _, b = ch.basic_get(q)
    expect_eq(m.redelivered, False, "redelivered on first get")
    ch.basic_nack(m.delivery_tag, requeue=True)
    m, _, b = ch.basic_get(q)
    expect(m is not None, "nack(requeue=True): message not requeued")
    expect_eq((b, m.redelivered), (b"n", True), "after nack requeue body/redelivered")
    ch.basic_reject(m.delivery_tag, requeue=True)
    m, _, b = ch.basic_get(q)
    expect(m is not None, "reject(requeue=True): message not requeued")
    expect_eq((b, m.redelivered), (b"n", True), "after reject requeue body/redelivered")
    ch.basic_reject(m.delivery_tag, requeue=False)
    m, _, _ = ch.basic_get(q)
    expect(m is None, "reject(requeue=False): message still in queue")
    # nack multiple
    for i in range(3):
        ch.basic_publish("", q, b"%d" % i)
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(3)]
    ch.basic_nack(tags[-1], multiple=True, requeue=True)
    expect_eq(wait_count(ch, q, 3), 3, "count after nack multiple requeue")
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(3)]
    ch.basic_nack(tags[-1], multiple=True, requeue=False)
    expect_eq(wait_count(ch, q, 0), 0, "count after nack multiple discard")
    # nack with a consumer: requeued message is redelivered to the consumer
    ch.basic_publish("", q, b"c")
    got = []

    def on_msg(c, m, p, b):
        got.append(m.redelivered)
        if not m.redelivered:
            c.basic_nack(m.delivery_tag, requeue=True)
        else:
            c.basic_ack(m.delivery_tag)

    ch.basic_consume(q, on_msg)
    drain(conn, 5, lambda: len(got) >= 2)
    expect_eq(got[:2], [False, True], "consumer redelivered flags after nack")
    # acking an unknown delivery tag is a channel error 406 PRECONDITION_FAILED
    ch2 = conn.channel()
    ch2.basic_ack(999)
    try:
        ch2.queue_declare("", exclusive=True)  # round trip to observe the close
        drain(conn, 1)
        expect(not ch2.is_open, "channel still open after ack of unknown tag")
    except pex.ChannelClosedByBroker as e:
        expect_eq(e.reply_code, 406, "reply code for unknown delivery tag")


@check
def publisher_confirms(ctx):
    conn = ctx.connect()
    expect(conn.publisher_confirms_supported, "server does not advertise publisher_confirms")
    ch = conn.channel()
    ch.confirm_delivery()
    q = ch.queue_declare("", exclusive=True).method.queue
    for i in range(10):
        ch.basic_publish("", q, b"c%d" % i)  # raises NackError/UnroutableError on failure
    expect_eq(wait_count(ch, q, 10), 10, "confirmed messages in queue")
    # mandatory + unroutable -> Basic.Return then Basic.Ack -> UnroutableError
    x = name("x-confirm")
    ch.exchange_declare(x, "direct", auto_delete=True)
    ch.queue_bind(q, x, "bound")
    try:
        ch.basic_publish(x, "nobody-bound", b"lost", mandatory=True)
        raise CheckFailed("mandatory unroutable publish did not raise UnroutableError")
    except pex.UnroutableError as e:
        expect_eq(len(e.messages), 1, "returned messages")
        r = e.messages[0]
        expect_eq((r.method.reply_code, r.method.exchange, r.method.routing_key, r.body),
                  (312, x, "nobody-bound", b"lost"), "basic.return fields")
        expect_eq(r.method.reply_text, "NO_ROUTE", "basic.return reply_text")
    # non-mandatory unroutable is silently dropped but still acked
    ch.basic_publish(x, "nobody-bound", b"dropped")
    # mandatory routable is fine
    ch.basic_publish(x, "bound", b"ok", mandatory=True)
    expect_eq(wait_count(ch, q, 11), 11, "count after routable mandatory publish")
    # publishing to a missing exchange closes the channel with 404
    try:
        ch.basic_publish(name("x-missing"), "rk", b"x")
        raise CheckFailed("publish to missing exchange did not close the channel")
    except pex.ChannelClosedByBroker as e:
        expect_eq(e.reply_code, 404, "reply code for publish to missing exchange")


@check
def mandatory_return_no_confirm(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m, p, b)))
    ch.basic_publish("", name("q-none"), b"ret", pika.BasicProperties(message_id="r1"), mandatory=True)
    drain(conn, 5, lambda: returned)
    expect(returned, "no basic.return for mandatory unroutable publish")
    m, p, b = returned[0]
    expect_eq((m.reply_code, b, p.message_id), (312, b"ret", "r1"), "returned reply_code/body/props")


@check
def transactions(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.tx_select()
    ch.basic_publish("", q, b"rolled-back")
    count = lambda: ch.queue_declare(q, passive=True).method.message_count  # tx is synchronous
    expect_eq(count(), 0, "uncommitted publish visible")
    ch.tx_rollback()
    expect_eq(count(), 0, "count after rollback")
    ch.basic_publish("", q, b"t1")
    ch.basic_publish("", q, b"t2")
    ch.tx_commit()
    expect_eq(count(), 2, "count after commit")
    # acks inside a transaction take effect on commit
    m, _, b = ch.basic_get(q)
    expect_eq(b, b"t1", "first transactional message")
    ch.basic_ack(m.delivery_tag)
    ch.tx_commit()
    expect_eq(count(), 1, "count after committed ack")
    # channel still transactional: another round
    ch.basic_publish("", q, b"t3")
    ch.tx_commit()
    expect_eq(count(), 2, "count after second commit")
    # commit without select is a channel error 406
    ch2 = conn.channel()
    try:
        ch2.tx_commit()
        raise CheckFailed("tx_commit without tx_select succeeded; want 406")
    except pex.ChannelClosedByBroker as e:
        expect_eq(e.reply_code, 406, "reply code for commit without select")


@check
def rpc_reply_to(ctx):
    server = ctx.connect()
    sch = server.channel()
    rpcq = name("q-rpc")
    sch.queue_declare(rpcq, auto_delete=True)
    sch.basic_qos(prefetch_count=1)

    def on_request(c, m, p, body):
        c.basic_publish("", p.reply_to, b"reply:" + body,
                        pika.BasicProperties(correlation_id=p.correlation_id))
        c.basic_ack(m.delivery_tag)

    sch.basic_consume(rpcq, on_request)

    client = ctx.connect()
    cch = client.channel()
    reply_q = cch.queue_declare("", exclusive=True).method.queue
    replies = {}
    cch.basic_consume(reply_q, lambda c, m, p, b: replies.__setitem__(p.correlation_id, b), auto_ack=True)
    ids = []
    for i in range(5):
        cid = str(uuid.uuid4())
        ids.append(cid)
        cch.basic_publish("", rpcq, b"req%d" % i,
                          pika.BasicProperties(reply_to=reply_q, correlation_id=cid))
    deadline = time.time() + 10
    while time.time() < deadline and len(replies) < 5:
        server.process_data_events(time_limit=0.05)
        client.process_data_events(time_limit=0.05)
    expect_eq(len(replies), 5, "RPC replies received")
    for i, cid in enumerate(ids):
        expect_eq(replies.get(cid), b"reply:req%d" % i, "reply for correlation_id %s" % cid)


@check
def channel_error_recovery(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    missing = name("q-missing")
    try:
        ch.queue_declare(missing, passive=True)
        raise CheckFailed("passive declare of missing queue succeeded")
    except pex.ChannelClosedByBroker as e:
        expect_eq(e.reply_code, 404, "reply code")
        expect("NOT_FOUND" in e.reply_text, "reply_text %r lacks NOT_FOUND" % e.reply_text)
    expect(ch.is_closed, "channel not closed after 404")
    expect(conn.is_open, "connection closed after a channel error")
    try:
        ch.queue_declare("", exclusive=True)
        raise CheckFailed("closed channel accepted a method")
    except pex.ChannelWrongStateError:
        pass
    ch2 = conn.channel()
    q = ch2.queue_declare("", exclusive=True).method.queue
    ch2.basic_publish("", q, b"after-error")
    m, _, b = ch2.basic_get(q, auto_ack=True)
    expect_eq(b, b"after-error", "message on new channel after error")
    # a second error on the new channel, then another channel, still fine
    try:
        ch2.queue_bind(q, name("x-missing"))
        raise CheckFailed("bind to missing exchange succeeded")
    except pex.ChannelClosedByBroker as e:
        expect_eq(e.reply_code, 404, "reply code for bind to missing exchange")
    ch3 = conn.channel()
    ch3.queue_declare("", exclusive=True)


@check
def heartbeat(ctx):
    seen = {}

    def hb(conn, server_value):
        seen["server"] = server_value
        return 2

    conn = ctx.connect(heartbeat=hb)
    expect_eq(conn._impl.params.heartbeat, 2, "negotiated heartbeat")
    ctx.note("server proposed heartbeat=%r" % seen.get("server"))
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    # idle (but pumping I/O) for longer than the heartbeat timeout
    conn.sleep(5)
    expect(conn.is_open, "connection closed during sleep")
    for _ in range(50):
        conn.process_data_events(time_limit=0.1)
    expect(conn.is_open, "connection closed during process_data_events")
    checker = conn._impl._heartbeat_checker
    recv = checker._heartbeat_frames_received if checker else None
    ctx.note("heartbeat frames received from broker in ~10s: %r" % recv)
    expect(recv and recv >= 2, "broker sent %r heartbeat frames in ~10s with heartbeat=2" % recv)
    ch.basic_publish("", q, b"hb")
    m, _, b = ch.basic_get(q, auto_ack=True)
    expect_eq(b, b"hb", "message after heartbeat idle")


@check
def heartbeat_timeout_enforced(ctx):
    """A client that stops sending heartbeats is disconnected by the broker."""
    conn = ctx.connect(heartbeat=2)
    conn.channel()
    time.sleep(9)  # no I/O at all: pika sends no heartbeats
    try:
        conn.process_data_events(time_limit=1)
        conn.process_data_events(time_limit=1)
        conn.channel().queue_declare("", exclusive=True)
        raise CheckFailed("broker did not close a connection silent for 9s with heartbeat=2")
    except (pex.StreamLostError, pex.AMQPConnectionError, ConnectionError) as e:
        ctx.note("connection dropped as expected: %r" % (e,))


@check
def large_message(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    body = os.urandom(2 * 1024 * 1024)
    ch.basic_publish("", q, body, pika.BasicProperties(content_type="application/octet-stream"))
    m, p, b = ch.basic_get(q, auto_ack=True)
    expect(m is not None, "2 MiB message not received by basic_get")
    expect_eq(len(b), len(body), "body length")
    expect(b == body, "2 MiB body corrupted")
    ch.basic_publish("", q, body)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(b), auto_ack=True)
    drain(conn, 10, lambda: got)
    expect(got and got[0] == body, "2 MiB body via consumer missing or corrupted")
    # with confirms as well
    ch2 = conn.channel()
    ch2.confirm_delivery()
    q2 = ch2.queue_declare("", exclusive=True).method.queue
    ch2.basic_publish("", q2, body)
    m, p, b = ch2.basic_get(q2, auto_ack=True)
    expect(b == body, "2 MiB body (confirm channel) corrupted")


@check
def consumer_cancel_notification(ctx):
    conn = ctx.connect()
    expect(conn.consumer_cancel_notify_supported, "server does not advertise consumer_cancel_notify")
    ch = conn.channel()
    q = name("q-cancel")
    ch.queue_declare(q, auto_delete=False)
    cancelled = []
    ch.add_on_cancel_callback(lambda frame: cancelled.append(frame.method.consumer_tag))
    tag = ch.basic_consume(q, lambda c, m, p, b: None)
    other = ctx.connect()
    other.channel().queue_delete(q)
    drain(conn, 5, lambda: cancelled)
    expect_eq(cancelled, [tag], "Basic.Cancel consumer tags from broker")
    drain(conn, 0.3)
    expect(tag not in ch.consumer_tags, "consumer tag still active after broker cancel")
    expect(ch.is_open, "channel closed after broker cancel")
    # the consume() generator sees the cancel as the end of iteration
    q2 = name("q-cancel2")
    ch.queue_declare(q2, auto_delete=False)
    ch.basic_publish("", q2, b"one")
    seen = []
    for i, (m, p, b) in enumerate(ch.consume(q2, inactivity_timeout=5)):
        if m is None:
            break
        seen.append(b)
        ch.basic_ack(m.delivery_tag)
        other.channel().queue_delete(q2)
        if i > 5:
            break
    expect_eq(seen, [b"one"], "consume() generator deliveries before cancel")
    # client-side cancel still works on a fresh queue
    q3 = ch.queue_declare("", exclusive=True).method.queue
    t3 = ch.basic_consume(q3, lambda c, m, p, b: None)
    ch.basic_cancel(t3)
    expect(ch.is_open, "channel closed after client cancel")


@check
def clean_close(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"bye")
    ch.close()
    expect(ch.is_closed, "channel not closed")
    t0 = time.time()
    conn.close()
    expect(conn.is_closed, "connection not closed")
    expect(time.time() - t0 < 3, "close took %.1fs" % (time.time() - t0))
    # connection.close with a custom reply code and unacked messages in flight
    conn2 = ctx.connect()
    ch2 = conn2.channel()
    q2 = ch2.queue_declare(name("q-close"), auto_delete=False).method.queue
    ch2.basic_publish("", q2, b"unacked")
    ch2.basic_get(q2)
    conn2.close(reply_code=200, reply_text="Normal shutdown")
    conn3 = ctx.connect()
    expect_eq(wait_count(conn3.channel(), q2, 1), 1, "unacked message requeued after connection close")
    conn3.channel().queue_delete(q2)


# ------------------------------------------------- RabbitMQ extensions
# Not AMQP 0-9-1 proper, but RabbitMQ features that clients written for
# RabbitMQ rely on; reported separately (names start with ext_).


@check
def ext_alternate_exchange(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    alt, main_x = name("x-alt"), name("x-main")
    ch.exchange_declare(alt, "fanout")
    ch.exchange_declare(main_x, "direct", arguments={"alternate-exchange": alt})
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, alt)
    ch.basic_publish(main_x, "unbound-key", b"to-alt")
    expect_eq(wait_count(ch, q, 1), 1, "message routed via alternate-exchange")
    # mandatory publish that the AE routes is not returned
    ch.confirm_delivery()
    ch.basic_publish(main_x, "unbound-key", b"to-alt-mandatory", mandatory=True)
    ch.exchange_delete(main_x)
    ch.exchange_delete(alt)


@check
def ext_cc_bcc_headers(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q1, q2, q3 = [ch.queue_declare("", exclusive=True).method.queue for _ in range(3)]
    ch.basic_publish("", q1, b"cc", pika.BasicProperties(headers={"CC": [q2], "BCC": [q3]}))
    got = (wait_count(ch, q1, 1), wait_count(ch, q2, 1), wait_count(ch, q3, 1))
    expect_eq(got, (1, 1, 1), "counts for routing key, CC and BCC queues")
    m, p, b = ch.basic_get(q3, auto_ack=True)
    expect("BCC" not in (p.headers or {}), "BCC header was not removed: %r" % p.headers)


@check
def ext_dead_letter(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    dlx = name("x-dlx")
    ch.exchange_declare(dlx, "direct")
    dq = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(dq, dlx, routing_key="dead")
    src = ch.queue_declare("", exclusive=True, arguments={
        "x-dead-letter-exchange": dlx, "x-dead-letter-routing-key": "dead"}).method.queue
    ch.basic_publish("", src, b"dead", pika.BasicProperties(message_id="d1"))
    m, _, _ = ch.basic_get(src)
    ch.basic_reject(m.delivery_tag, requeue=False)
    expect_eq(wait_count(ch, dq, 1), 1, "dead-lettered message count after reject")
    m, p, b = ch.basic_get(dq, auto_ack=True)
    expect_eq((b, p.message_id), (b"dead", "d1"), "dead-lettered body/message_id")
    xd = (p.headers or {}).get("x-death")
    expect(isinstance(xd, list) and xd and xd[0].get("reason") == "rejected"
           and xd[0].get("queue") == src and xd[0].get("count") == 1,
           "x-death header: %r" % (xd,))
    ch.exchange_delete(dlx)


@check
def ext_message_ttl(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"short", pika.BasicProperties(expiration="200"))
    ch.basic_publish("", q, b"long", pika.BasicProperties(expiration="600000"))
    time.sleep(0.6)
    m, _, b = ch.basic_get(q, auto_ack=True)
    expect_eq(b, b"long", "first message after per-message expiration of the head")
    # per-queue TTL, expired messages dead-lettered with reason 'expired'
    dlx = name("x-ttl-dlx")
    ch.exchange_declare(dlx, "fanout")
    dq = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(dq, dlx)
    tq = ch.queue_declare("", exclusive=True, arguments={
        "x-message-ttl": 200, "x-dead-letter-exchange": dlx}).method.queue
    ch.basic_publish("", tq, b"expire-me")
    time.sleep(0.6)
    expect_eq(wait_count(ch, tq, 0), 0, "x-message-ttl queue count after 600ms")
    expect_eq(wait_count(ch, dq, 1), 1, "expired messages dead-lettered")
    m, p, b = ch.basic_get(dq, auto_ack=True)
    xd = (p.headers or {}).get("x-death") or [{}]
    expect_eq(xd[0].get("reason"), "expired", "x-death reason")
    ch.exchange_delete(dlx)


@check
def ext_queue_expires(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q = name("q-expires")
    ch.queue_declare(q, arguments={"x-expires": 1000})
    time.sleep(2.5)
    try:
        ch.queue_declare(q, passive=True)
        raise CheckFailed("queue with x-expires=1000 still exists after 2.5s unused")
    except pex.ChannelClosedByBroker as e:
        expect_eq(e.reply_code, 404, "passive declare of expired queue")


@check
def ext_max_length(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True, arguments={"x-max-length": 2}).method.queue
    for i in range(5):
        ch.basic_publish("", q, b"%d" % i)
    expect_eq(wait_count(ch, q, 2), 2, "count with x-max-length=2 (drop-head)")
    m, _, b = ch.basic_get(q, auto_ack=True)
    expect_eq(b, b"3", "oldest message kept with drop-head")
    ch.confirm_delivery()
    rq = ch.queue_declare("", exclusive=True, arguments={
        "x-max-length": 1, "x-overflow": "reject-publish"}).method.queue
    ch.basic_publish("", rq, b"fits")
    try:
        ch.basic_publish("", rq, b"overflow")
        raise CheckFailed("publish over x-max-length with reject-publish was confirmed; want nack")
    except pex.NackError:
        pass


@check
def ext_priority_queue(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True, arguments={"x-max-priority": 10}).method.queue
    for pr in (1, 9, 5, 0):
        ch.basic_publish("", q, b"p%d" % pr, pika.BasicProperties(priority=pr))
    wait_count(ch, q, 4)
    order = [ch.basic_get(q, auto_ack=True)[2] for _ in range(4)]
    expect_eq(order, [b"p9", b"p5", b"p1", b"p0"], "priority order")


@check
def ext_direct_reply_to(ctx):
    server = ctx.connect()
    sch = server.channel()
    rpcq = sch.queue_declare(name("q-drt"), auto_delete=True).method.queue
    seen = {}

    def on_request(c, m, p, body):
        seen["reply_to"] = p.reply_to
        c.basic_publish("", p.reply_to, b"pong", pika.BasicProperties(correlation_id=p.correlation_id))
        c.basic_ack(m.delivery_tag)

    sch.basic_consume(rpcq, on_request)
    client = ctx.connect()
    cch = client.channel()
    replies = []
    cch.basic_consume("amq.rabbitmq.reply-to", lambda c, m, p, b: replies.append((p.correlation_id, b)),
                      auto_ack=True)
    cch.basic_publish("", rpcq, b"ping", pika.BasicProperties(reply_to="amq.rabbitmq.reply-to",
                                                              correlation_id="c1"))
    deadline = time.time() + 5
    while time.time() < deadline and not replies:
        server.process_data_events(time_limit=0.05)
        client.process_data_events(time_limit=0.05)
    expect(str(seen.get("reply_to", "")).startswith("amq.rabbitmq.reply-to."),
           "server saw reply_to %r; want amq.rabbitmq.reply-to.<id>" % seen.get("reply_to"))
    expect_eq(replies, [("c1", b"pong")], "direct reply-to replies")


@check
def ext_single_active_consumer(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q = ch.queue_declare(name("q-sac"), auto_delete=True,
                         arguments={"x-single-active-consumer": True}).method.queue
    got = {"first": 0, "second": 0}
    ch.basic_consume(q, lambda c, m, p, b: got.__setitem__("first", got["first"] + 1), auto_ack=True)
    ch.basic_consume(q, lambda c, m, p, b: got.__setitem__("second", got["second"] + 1), auto_ack=True)
    for _ in range(6):
        ch.basic_publish("", q, b"x")
    drain(conn, 1.5, lambda: got["first"] + got["second"] >= 6 and False)
    expect_eq(got, {"first": 6, "second": 0}, "deliveries per consumer with x-single-active-consumer")


@check
def ext_consumer_priority(ctx):
    conn = ctx.connect()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    got = []
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(q, lambda c, m, p, b: got.append("low"), arguments={"x-priority": 1})
    ch.basic_consume(q, lambda c, m, p, b: got.append("high"), arguments={"x-priority": 10})
    ch.basic_publish("", q, b"x")
    drain(conn, 1)
    expect_eq(got, ["high"], "consumer that got the message (x-priority 10 vs 1)")


def main():
    global URL
    args = sys.argv[1:]
    only = None
    if "--verbose" in args:
        args.remove("--verbose")
        logging.basicConfig(level=logging.DEBUG, format="%(asctime)s %(name)s %(message)s")
    if "--only" in args:
        i = args.index("--only")
        only = set(args[i + 1].split(","))
        del args[i:i + 2]
    if args:
        URL = args[0]
    print("pika %s against %s" % (pika.__version__, URL))
    passed = failed = 0
    for fn in CHECKS:
        if only and fn.__name__ not in only:
            continue
        ctx = Ctx()
        t0 = time.time()
        try:
            with alarm(CHECK_TIMEOUT):
                fn(ctx)
            status, detail = "PASS", ""
        except CheckFailed as e:
            status, detail = "FAIL", str(e)
        except BaseException as e:  # noqa: B902 - report everything
            if isinstance(e, KeyboardInterrupt):
                raise
            tb = traceback.extract_tb(sys.exc_info()[2])
            where = ["%s:%d" % (os.path.basename(f.filename), f.lineno) for f in tb
                     if f.filename == __file__][-1:]
            status, detail = "FAIL", "%s: %s (at %s)" % (type(e).__name__, e, ",".join(where))
        finally:
            ctx.cleanup()
        if status == "PASS":
            passed += 1
        else:
            failed += 1
        line = "%s %-30s %5.1fs" % (status, fn.__name__, time.time() - t0)
        if detail:
            line += "  " + detail
        print(line)
        for n in ctx.notes:
            print("     note: " + n)
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
