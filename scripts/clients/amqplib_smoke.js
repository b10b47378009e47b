#!/usr/bin/env node
// Smoke test of an AMQP 0-9-1 broker with Node's amqplib (promise API).
//
// Usage:
//   NODE_PATH=/tmp/amqplib-scratch/node_modules node amqplib_smoke.js [URL] [--only a,b]
//
// URL defaults to amqp://guest:guest@127.0.0.1:5672/%2F. Every check opens its
// own connection(s), so one failure does not cascade into the next. Each check
// prints PASS or FAIL with details; the last line is "N passed, M failed" and
// the exit status is non-zero if any check failed.
//
// Run it against RabbitMQ first: every check passes there.

'use strict';

const crypto = require('node:crypto');
const path = require('node:path');
const amqp = require('amqplib');

// amqplib has no public transaction API; its protocol definitions give us the
// method ids so tx.select/commit/rollback can go through Channel#rpc.
let defs;
try {
  defs = require(path.join(path.dirname(require.resolve('amqplib')), 'lib', 'defs.js'));
} catch (_e) {
  defs = null;
}
let frameMod;
try {
  frameMod = require(path.join(path.dirname(require.resolve('amqplib')), 'lib', 'frame.js'));
} catch (_e) {
  frameMod = null;
}
const M = (cls, meth) => (cls << 16) | meth;
const TX = {
  Select: defs ? defs.TxSelect : M(90, 10),
  SelectOk: defs ? defs.TxSelectOk : M(90, 11),
  Commit: defs ? defs.TxCommit : M(90, 20),
  CommitOk: defs ? defs.TxCommitOk : M(90, 21),
  Rollback: defs ? defs.TxRollback : M(90, 30),
  RollbackOk: defs ? defs.TxRollbackOk : M(90, 31),
};

const CHECK_TIMEOUT_MS = 40000;
let URL_ = 'amqp://guest:guest@127.0.0.1:5672/%2F';
const RUN_ID = crypto.randomBytes(4).toString('hex');

function name(kind) {
  return `smoke.amqplib.${kind}.${RUN_ID}.${crypto.randomBytes(3).toString('hex')}`;
}

class CheckFailed extends Error {}

function expect(cond, msg) {
  if (!cond) throw new CheckFailed(msg);
}

function show(v) {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
  } catch (_e) {
    return String(v);
  }
}

function expectEq(got, want, what) {
  if (show(got) !== show(want)) throw new CheckFailed(`${what}: got ${show(got)}, want ${show(want)}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pred()) return true;
    await sleep(20);
  }
  return pred();
}

// Rejects if the promise does not settle in ms.
function within(ms, p, what) {
  let t;
  return Promise.race([
    p,
    new Promise((_r, rej) => {
      t = setTimeout(() => rej(new CheckFailed(`${what}: timed out after ${ms}ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

// Expect the promise to reject with an AMQP channel/connection error of `code`.
async function expectAmqpError(p, code, what) {
  try {
    await within(10000, p, what);
  } catch (e) {
    if (e instanceof CheckFailed) throw e;
    expectEq(e.code, code, `${what}: error code (message: ${e.message})`);
    return e;
  }
  throw new CheckFailed(`${what}: succeeded, want error ${code}`);
}

// Passive-declare q until its messageCount == want (publishes are
// asynchronous); return the last count seen.
async function waitCount(ch, q, want, ms = 3000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await ch.checkQueue(q);
    if (ok.messageCount === want) return ok.messageCount;
    if (Date.now() >= deadline) {
      if (process.env.SMOKE_DEBUG) console.log(`     (waitCount ${q}: want ${want}, have ${ok.messageCount}) ${new Error().stack.split("\n")[2].trim()}`);
      return ok.messageCount;
    }
    await sleep(50);
  }
}

function urlWith(params) {
  const u = new URL(URL_);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
  return u.toString();
}

class Ctx {
  constructor() {
    this.conns = [];
    this.notes = [];
    this.errors = [];
  }

  async connect(params) {
    const c = await within(10000, amqp.connect(params ? urlWith(params) : URL_), 'connect');
    c.on('error', (e) => this.errors.push(`connection error: ${e.message}`));
    this.conns.push(c);
    return c;
  }

  // Channels always get an 'error' listener: without one an error event
  // from a channel close would crash the process.
  async channel(conn, confirm) {
    const ch = await within(10000, confirm ? conn.createConfirmChannel() : conn.createChannel(), 'channel open');
    ch.lastError = null;
    ch.closed = false;
    ch.on('error', (e) => {
      ch.lastError = e;
    });
    ch.on('close', () => {
      ch.closed = true;
    });
    return ch;
  }

  note(s) {
    this.notes.push(s);
  }

  async cleanup() {
    for (const c of this.conns) {
      try {
        await within(5000, c.close(), 'cleanup close');
      } catch (_e) {
        // best effort
      }
    }
  }
}

const CHECKS = [];
function check(name, fn) {
  CHECKS.push({ name, fn });
}

const drainUntil = waitFor;

// ---------------------------------------------------------------- checks

check('connect', async (ctx) => {
  const conn = await ctx.connect();
  const c = conn.connection;
  const props = c.serverProperties || {};
  const caps = props.capabilities || {};
  ctx.note(`server product=${show(String(props.product))} version=${show(String(props.version))}`);
  const want = [
    'publisher_confirms',
    'basic.nack',
    'consumer_cancel_notify',
    'exchange_exchange_bindings',
    'per_consumer_qos',
    'connection.blocked',
    'authentication_failure_close',
  ];
  const missing = want.filter((k) => caps[k] !== true);
  expect(missing.length === 0, `server capabilities missing/false: ${show(missing)} (got ${show(caps)})`);
  ctx.note(`negotiated channelMax=${c.channelMax} frameMax=${c.frameMax} heartbeat=${c.heartbeat}`);
  expect(c.frameMax >= 4096, `frameMax ${c.frameMax} < 4096`);
  // AMQPLAIN, the default mechanism of some clients (e.g. php-amqplib)
  const u = new URL(URL_);
  const c2 = await within(
    10000,
    amqp.connect(URL_, {
      credentials: amqp.credentials.amqplain(decodeURIComponent(u.username || 'guest'), decodeURIComponent(u.password || 'guest')),
    }),
    'connect with AMQPLAIN',
  );
  ctx.conns.push(c2);
  const ch = await ctx.channel(c2);
  await ch.assertQueue('', { exclusive: true });
});

check('channel_open_close', async (ctx) => {
  const conn = await ctx.connect();
  const chans = [];
  for (let i = 0; i < 3; i++) chans.push(await ctx.channel(conn));
  const nums = chans.map((c) => c.ch);
  expect(new Set(nums).size === 3, `channel numbers not distinct: ${show(nums)}`);
  await within(5000, chans[1].close(), 'channel close');
  await chans[0].assertQueue('', { exclusive: true });
  await chans[2].assertQueue('', { exclusive: true });
  const again = await ctx.channel(conn); // reuses the freed channel number
  await again.assertQueue('', { exclusive: true });
});

check('exchange_declare', async (ctx) => {
  const conn = await ctx.connect();
  let ch = await ctx.channel(conn);
  for (const t of ['direct', 'fanout', 'topic', 'headers']) {
    const x = name(`x-${t}`);
    const ok = await ch.assertExchange(x, t, { durable: false, autoDelete: false });
    expectEq(ok.exchange, x, 'assertExchange result');
    await ch.assertExchange(x, t, { durable: false }); // idempotent
    await ch.checkExchange(x);
    await ch.deleteExchange(x);
  }
  const xd = name('x-durable');
  await ch.assertExchange(xd, 'direct', { durable: true });
  await ch.deleteExchange(xd, { ifUnused: true });
  // type mismatch -> 406
  const x = name('x-mismatch');
  await ch.assertExchange(x, 'direct', { durable: false });
  const e = await expectAmqpError(ch.assertExchange(x, 'fanout', { durable: false }), 406, 'redeclare with different type');
  expectEq([e.classId, e.methodId], [40, 10], 'channel.close class/method ids for exchange.declare');
  ch = await ctx.channel(conn);
  await ch.deleteExchange(x);
  await expectAmqpError(ch.checkExchange(name('x-missing')), 404, 'checkExchange of missing exchange');
});

check('queue_declare', async (ctx) => {
  const conn = await ctx.connect();
  let ch = await ctx.channel(conn);
  const q = name('q');
  let ok = await ch.assertQueue(q, { durable: false });
  expectEq([ok.queue, ok.messageCount, ok.consumerCount], [q, 0, 0], 'declare-ok');
  ch.sendToQueue(q, Buffer.from('x'));
  expectEq(await waitCount(ch, q, 1), 1, 'checkQueue messageCount after publish');
  ok = await ch.assertQueue('', { exclusive: true });
  expect(ok.queue.startsWith('amq.gen-'), `server-named queue ${show(ok.queue)} does not start with amq.gen-`);
  // durable is amqplib's default
  const qd = name('q-durable');
  await ch.assertQueue(qd);
  await ch.assertQueue(qd, { durable: true });
  await expectAmqpError(ch.assertQueue(qd, { durable: false }), 406, 'redeclare with different durability');
  ch = await ctx.channel(conn);
  // queue arguments
  const qa = name('q-args');
  await ch.assertQueue(qa, { durable: false, messageTtl: 60000, maxLength: 10, expires: 600000 });
  await ch.assertQueue(qa, { durable: false, messageTtl: 60000, maxLength: 10, expires: 600000 });
  await expectAmqpError(ch.assertQueue(qa, { durable: false, messageTtl: 1000 }), 406, 'redeclare with different x-message-ttl');
  ch = await ctx.channel(conn);
  // exclusive -> 405 from another connection
  const qx = name('q-excl');
  await ch.assertQueue(qx, { exclusive: true, durable: false });
  const other = await ctx.connect();
  const och = await ctx.channel(other);
  await expectAmqpError(och.checkQueue(qx), 405, 'exclusive queue from another connection');
  ch.sendToQueue(q, Buffer.from('y'));
  await waitCount(ch, q, 2);
  ok = await ch.purgeQueue(q);
  expectEq(ok.messageCount, 2, 'purge-ok messageCount');
  ch.sendToQueue(qd, Buffer.from('z'));
  await waitCount(ch, qd, 1);
  ok = await ch.deleteQueue(qd);
  expectEq(ok.messageCount, 1, 'delete-ok messageCount');
  await ch.deleteQueue(q);
  await ch.deleteQueue(qa);
  // ifEmpty on a non-empty queue -> 406
  const qe = name('q-ifempty');
  await ch.assertQueue(qe, { durable: false });
  ch.sendToQueue(qe, Buffer.from('keep'));
  await waitCount(ch, qe, 1);
  await expectAmqpError(ch.deleteQueue(qe, { ifEmpty: true }), 406, 'deleteQueue ifEmpty on non-empty queue');
  ch = await ctx.channel(conn);
  await ch.deleteQueue(qe);
});

check('bind_unbind', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const q = async () => (await ch.assertQueue('', { exclusive: true })).queue;
  const xd = name('x-direct');
  await ch.assertExchange(xd, 'direct', { durable: false });
  const qa = await q();
  await ch.bindQueue(qa, xd, 'k1');
  ch.publish(xd, 'k1', Buffer.from('1'));
  ch.publish(xd, 'k2', Buffer.from('2'));
  expectEq(await waitCount(ch, qa, 1), 1, 'direct count');
  await ch.unbindQueue(qa, xd, 'k1');
  ch.publish(xd, 'k1', Buffer.from('3'));
  await sleep(300);
  expectEq(await waitCount(ch, qa, 1), 1, 'direct count after unbind');
  const xf = name('x-fanout');
  await ch.assertExchange(xf, 'fanout', { durable: false });
  const q1 = await q();
  const q2 = await q();
  await ch.bindQueue(q1, xf, '');
  await ch.bindQueue(q2, xf, 'ignored');
  ch.publish(xf, 'any', Buffer.from('f'));
  expectEq([await waitCount(ch, q1, 1), await waitCount(ch, q2, 1)], [1, 1], 'fanout counts');
  const xt = name('x-topic');
  await ch.assertExchange(xt, 'topic', { durable: false });
  const qs = await q();
  const qh = await q();
  const qz = await q();
  await ch.bindQueue(qs, xt, 'a.*.c');
  await ch.bindQueue(qh, xt, 'a.#');
  await ch.bindQueue(qz, xt, '#.z');
  for (const rk of ['a.b.c', 'a.b.b.c', 'a', 'a.b', 'x.y.z', 'z']) ch.publish(xt, rk, Buffer.from(rk));
  expectEq(await waitCount(ch, qs, 1), 1, 'topic a.*.c');
  expectEq(await waitCount(ch, qh, 4), 4, 'topic a.#');
  expectEq(await waitCount(ch, qz, 2), 2, 'topic #.z');
  await ch.unbindQueue(qh, xt, 'a.#');
  ch.publish(xt, 'a.q', Buffer.from('after'));
  await sleep(300);
  expectEq(await waitCount(ch, qh, 4), 4, 'topic a.# after unbind');
  const xh = name('x-headers');
  await ch.assertExchange(xh, 'headers', { durable: false });
  const qall = await q();
  const qany = await q();
  const argsAll = { 'x-match': 'all', fmt: 'pdf', n: 7 };
  const argsAny = { 'x-match': 'any', fmt: 'pdf', n: 7 };
  await ch.bindQueue(qall, xh, '', argsAll);
  await ch.bindQueue(qany, xh, '', argsAny);
  const pub = (headers) => ch.publish(xh, '', Buffer.from('h'), { headers });
  pub({ fmt: 'pdf', n: 7 }); // all + any
  pub({ n: 7 }); // any
  pub({ fmt: 'zip', n: 8 }); // neither
  pub(undefined); // neither
  expectEq(await waitCount(ch, qall, 1), 1, 'headers all');
  expectEq(await waitCount(ch, qany, 2), 2, 'headers any');
  await ch.unbindQueue(qany, xh, '', argsAny);
  pub({ fmt: 'pdf', n: 7 });
  await sleep(300);
  expectEq([await waitCount(ch, qall, 2), await waitCount(ch, qany, 2)], [2, 2], 'headers after unbind');
  // exchange-to-exchange
  const src = name('x-src');
  const dst = name('x-dst');
  await ch.assertExchange(src, 'topic', { durable: false });
  await ch.assertExchange(dst, 'fanout', { durable: false });
  const qx = await q();
  await ch.bindQueue(qx, dst, '');
  await ch.bindExchange(dst, src, 'e2e.*');
  ch.publish(src, 'e2e.one', Buffer.from('via'));
  ch.publish(src, 'other', Buffer.from('no'));
  expectEq(await waitCount(ch, qx, 1), 1, 'exchange-to-exchange count');
  await ch.unbindExchange(dst, src, 'e2e.*');
  ch.publish(src, 'e2e.two', Buffer.from('after'));
  await sleep(300);
  expectEq(await waitCount(ch, qx, 1), 1, 'count after unbindExchange');
  for (const x of [xd, xf, xt, xh, src, dst]) await ch.deleteExchange(x);
});

const PUB_OPTS = {
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  persistent: true,
  priority: 5,
  correlationId: 'corr-123',
  replyTo: 'reply.queue',
  expiration: 60000, // amqplib stringifies numbers
  messageId: 'msg-456',
  timestamp: 1700000000,
  type: 'smoke.type',
  userId: 'guest', // must equal the authenticated user
  appId: 'amqplib-smoke',
};

const HEADERS = {
  str: 'value',
  byte: 100, // 'b'
  short: 1000, // 's' (RabbitMQ's signed 16-bit tag)
  int: 100000, // 'I'
  long: 2 ** 40, // 'l'
  neg: -5, // 'b'
  double: 1.5, // 'd'
  float: { '!': 'float', value: 2.5 }, // 'f'
  u8: { '!': 'uint8', value: 200 }, // 'B'
  u16: { '!': 'uint16', value: 60000 }, // 'u'
  u32: { '!': 'uint32', value: 4000000000 }, // 'i'
  ts: { '!': 'timestamp', value: 1700000000 }, // 'T'
  dec: { '!': 'decimal', value: { places: 2, digits: 314 } }, // 'D'
  t: true,
  f: false,
  nil: null, // 'V'
  bin: Buffer.from([0, 1, 2, 255]), // 'x'
  arr: [1, 'two', true, null, [3]],
  nested: { a: 1, b: 'two', c: { d: [1, 'x'] } },
  unicode: 'h\u00e9llo \u2603',
};

// What amqplib decodes each header to.
const HEADERS_DECODED = {
  ...HEADERS,
  float: 2.5,
  u8: 200,
  u16: 60000,
  u32: 4000000000,
  bin: { type: 'Buffer', data: [0, 1, 2, 255] },
};

function checkMessage(msg, what) {
  const p = msg.properties;
  const wantProps = {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    deliveryMode: 2,
    priority: 5,
    correlationId: 'corr-123',
    replyTo: 'reply.queue',
    expiration: '60000',
    messageId: 'msg-456',
    timestamp: 1700000000,
    type: 'smoke.type',
    userId: 'guest',
    appId: 'amqplib-smoke',
  };
  for (const [k, v] of Object.entries(wantProps)) expectEq(p[k], v, `${what} property ${k}`);
  const h = p.headers || {};
  for (const [k, v] of Object.entries(HEADERS_DECODED)) {
    expectEq(h[k], v, `${what} header ${k}`);
  }
}

check('publish_properties', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const { queue: q } = await ch.assertQueue('', { exclusive: true });
  const body = Buffer.from('{"hello":"world"}');
  ch.sendToQueue(q, body, { ...PUB_OPTS, headers: HEADERS });
  await waitCount(ch, q, 1);
  const m = await ch.get(q, { noAck: true });
  expect(m, 'get returned nothing');
  expectEq(m.content.toString(), body.toString(), 'body');
  expectEq([m.fields.exchange, m.fields.routingKey, m.fields.redelivered], ['', q, false], 'get-ok fields');
  checkMessage(m, 'get');
  ch.sendToQueue(q, body, { ...PUB_OPTS, headers: HEADERS });
  const got = [];
  await ch.consume(q, (msg) => got.push(msg), { noAck: true });
  await drainUntil(() => got.length > 0, 5000);
  expect(got.length === 1, 'consumer received nothing');
  checkMessage(got[0], 'consume');
  // empty body, no properties
  const { queue: q2 } = await ch.assertQueue('', { exclusive: true });
  ch.sendToQueue(q2, Buffer.alloc(0));
  await waitCount(ch, q2, 1);
  const e = await ch.get(q2, { noAck: true });
  expect(e && e.content.length === 0, 'empty-body message missing or not empty');
});

check('consume_manual_ack', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const q = name('q-consume');
  await ch.assertQueue(q, { durable: false });
  const n = 20;
  for (let i = 0; i < n; i++) ch.sendToQueue(q, Buffer.from(String(i)));
  const got = [];
  const { consumerTag } = await ch.consume(q, (m) => {
    got.push(m);
    ch.ack(m);
  });
  expect(consumerTag, 'no consumer tag');
  await drainUntil(() => got.length >= n, 10000);
  expectEq(got.length, n, 'deliveries');
  expectEq(
    got.map((m) => m.content.toString()),
    [...Array(n).keys()].map(String),
    'order',
  );
  expectEq(
    got.map((m) => m.fields.deliveryTag),
    [...Array(n).keys()].map((i) => i + 1),
    'delivery tags',
  );
  expectEq(got[0].fields.consumerTag, consumerTag, 'deliver consumerTag');
  expect(!got.some((m) => m.fields.redelivered), 'redelivered set on first delivery');
  const cok = await ch.cancel(consumerTag);
  expectEq(cok.consumerTag, consumerTag, 'cancel-ok consumerTag');
  expectEq(await waitCount(ch, q, 0), 0, 'messageCount after acks');
  expectEq((await ch.checkQueue(q)).consumerCount, 0, 'consumerCount after cancel');
  // ack allUpTo, and a client-chosen consumer tag
  for (let i = 0; i < 3; i++) ch.sendToQueue(q, Buffer.from(`g${i}`));
  const got2 = [];
  const tag = `my-tag-${RUN_ID}`;
  const r = await ch.consume(q, (m) => got2.push(m), { consumerTag: tag });
  expectEq(r.consumerTag, tag, 'client-chosen consumer tag');
  await drainUntil(() => got2.length >= 3, 5000);
  expectEq(got2.length, 3, 'deliveries for ack allUpTo');
  ch.ack(got2[2], true);
  await ch.cancel(tag);
  expectEq(await waitCount(ch, q, 0), 0, 'messageCount after ack allUpTo');
  // ackAll
  for (let i = 0; i < 2; i++) ch.sendToQueue(q, Buffer.from(`h${i}`));
  const got3 = [];
  const r3 = await ch.consume(q, (m) => got3.push(m));
  await drainUntil(() => got3.length >= 2, 5000);
  ch.ackAll();
  await ch.cancel(r3.consumerTag);
  expectEq(await waitCount(ch, q, 0), 0, 'messageCount after ackAll');
  // exclusive consumer: a second consumer -> 403 ACCESS_REFUSED
  await ch.consume(q, () => {}, { exclusive: true });
  const ch2 = await ctx.channel(conn);
  await expectAmqpError(ch2.consume(q, () => {}), 403, 'second consumer on exclusively consumed queue');
  await ch.deleteQueue(q);
});

check('prefetch_qos', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const { queue: q } = await ch.assertQueue('', { exclusive: true });
  for (let i = 0; i < 6; i++) ch.sendToQueue(q, Buffer.from(String(i)));
  await ch.prefetch(2);
  const got = [];
  await ch.consume(q, (m) => got.push(m));
  await sleep(1500);
  expectEq(got.length, 2, 'unacked deliveries with prefetch 2');
  ch.ack(got[0]);
  await sleep(1000);
  expectEq(got.length, 3, 'deliveries after one ack');
  ch.ack(got[2], true);
  await sleep(1000);
  expectEq(got.length, 5, 'deliveries after ack allUpTo');
  // global prefetch shared by two consumers on the channel
  const ch2 = await ctx.channel(conn);
  const { queue: qa } = await ch2.assertQueue('', { exclusive: true });
  const { queue: qb } = await ch2.assertQueue('', { exclusive: true });
  for (let i = 0; i < 5; i++) {
    ch2.sendToQueue(qa, Buffer.from('a'));
    ch2.sendToQueue(qb, Buffer.from('b'));
  }
  await ch2.prefetch(3, true);
  const g2 = [];
  await ch2.consume(qa, (m) => g2.push(m));
  await ch2.consume(qb, (m) => g2.push(m));
  await sleep(1500);
  expectEq(g2.length, 3, 'deliveries across two consumers with global prefetch 3');
});

check('basic_get', async (ctx) => {
  const conn = await ctx.connect();
  let ch = await ctx.channel(conn);
  const { queue: q } = await ch.assertQueue('', { exclusive: true });
  expectEq(await ch.get(q), false, 'get on empty queue');
  for (let i = 0; i < 3; i++) ch.sendToQueue(q, Buffer.from(`m${i}`));
  await waitCount(ch, q, 3);
  let m = await ch.get(q);
  expectEq([m.content.toString(), m.fields.messageCount], ['m0', 2], 'first get body/messageCount');
  ch.ack(m);
  m = await ch.get(q, { noAck: true });
  expectEq([m.content.toString(), m.fields.messageCount], ['m1', 1], 'second get (noAck)');
  const m2 = await ch.get(q);
  expectEq([m2.content.toString(), m2.fields.messageCount], ['m2', 0], 'third get');
  expect(m2.fields.deliveryTag > m.fields.deliveryTag, 'delivery tags not increasing');
  expectEq(await ch.get(q), false, 'get after draining');
  await ch.close();
  ch = await ctx.channel(conn);
  await waitCount(ch, q, 1);
  m = await ch.get(q, { noAck: true });
  expect(m, 'unacked message not requeued after channel close');
  expectEq([m.content.toString(), m.fields.redelivered], ['m2', true], 'requeued message');
  // recover: unacked messages are redelivered
  ch.sendToQueue(q, Buffer.from('r'));
  await waitCount(ch, q, 1);
  const r1 = await ch.get(q);
  expect(r1, 'no message for recover test');
  await ch.recover();
  await waitCount(ch, q, 1);
  const r2 = await ch.get(q, { noAck: true });
  expect(r2 && r2.fields.redelivered, 'message not redelivered after basic.recover');
});

check('nack_reject_requeue', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const { queue: q } = await ch.assertQueue('', { exclusive: true });
  ch.sendToQueue(q, Buffer.from('n'));
  await waitCount(ch, q, 1);
  let m = await ch.get(q);
  expectEq(m.fields.redelivered, false, 'first get redelivered');
  ch.nack(m, false, true);
  await waitCount(ch, q, 1);
  m = await ch.get(q);
  expect(m, 'nack requeue: message gone');
  expectEq([m.content.toString(), m.fields.redelivered], ['n', true], 'after nack requeue');
  ch.reject(m, true);
  await waitCount(ch, q, 1);
  m = await ch.get(q);
  expect(m, 'reject requeue: message gone');
  expectEq(m.fields.redelivered, true, 'after reject requeue');
  ch.reject(m, false);
  expectEq(await waitCount(ch, q, 0), 0, 'count after reject without requeue');
  for (let i = 0; i < 3; i++) ch.sendToQueue(q, Buffer.from(String(i)));
  await waitCount(ch, q, 3);
  let ms = [await ch.get(q), await ch.get(q), await ch.get(q)];
  ch.nack(ms[2], true, true);
  expectEq(await waitCount(ch, q, 3), 3, 'count after nack allUpTo requeue');
  ms = [await ch.get(q), await ch.get(q), await ch.get(q)];
  expect(ms.every((x) => x && x.fields.redelivered), 'not all redelivered after nack allUpTo');
  ch.nackAll(false);
  expectEq(await waitCount(ch, q, 0), 0, 'count after nackAll discard');
  // consumer nack -> redelivered to the consumer
  ch.sendToQueue(q, Buffer.from('c'));
  const flags = [];
  await ch.consume(q, (msg) => {
    flags.push(msg.fields.redelivered);
    if (!msg.fields.redelivered) ch.nack(msg, false, true);
    else ch.ack(msg);
  });
  await drainUntil(() => flags.length >= 2, 5000);
  expectEq(flags.slice(0, 2), [false, true], 'consumer redelivered flags');
  // ack of an unknown tag -> channel closed 406
  const ch2 = await ctx.channel(conn);
  ch2.ack({ fields: { deliveryTag: 999 } });
  await drainUntil(() => ch2.lastError, 3000);
  expect(ch2.lastError, 'no channel error after ack of unknown delivery tag');
  expectEq(ch2.lastError.code, 406, 'code for unknown delivery tag');
});

check('publisher_confirms', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn, true);
  const { queue: q } = await ch.assertQueue('', { exclusive: true });
  const acks = [];
  for (let i = 0; i < 10; i++) {
    ch.sendToQueue(q, Buffer.from(`c${i}`), {}, (err) => acks.push(err));
  }
  await within(10000, ch.waitForConfirms(), 'waitForConfirms');
  expectEq(acks.length, 10, 'confirm callbacks');
  expect(
    acks.every((e) => e === null || e === undefined),
    `nacks: ${show(acks)}`,
  );
  expectEq((await ch.checkQueue(q)).messageCount, 10, 'confirmed messages in queue');
  // mandatory unroutable -> basic.return then ack
  const x = name('x-confirm');
  await ch.assertExchange(x, 'direct', { durable: false });
  await ch.bindQueue(q, x, 'bound');
  const returned = [];
  ch.on('return', (m) => returned.push(m));
  let cbErr = 'not called';
  ch.publish(x, 'nobody', Buffer.from('lost'), { mandatory: true, messageId: 'ret-1' }, (err) => {
    cbErr = err;
  });
  await within(10000, ch.waitForConfirms(), 'waitForConfirms (unroutable)');
  expect(cbErr === null || cbErr === undefined, `confirm callback for unroutable message: ${show(cbErr)}`);
  expectEq(returned.length, 1, 'basic.return count (must arrive before the ack)');
  const r = returned[0];
  expectEq(
    [r.fields.replyCode, r.fields.replyText, r.fields.exchange, r.fields.routingKey, r.content.toString(), r.properties.messageId],
    [312, 'NO_ROUTE', x, 'nobody', 'lost', 'ret-1'],
    'basic.return fields',
  );
  ch.publish(x, 'bound', Buffer.from('ok'), { mandatory: true });
  await within(10000, ch.waitForConfirms(), 'waitForConfirms (routable)');
  expectEq(await waitCount(ch, q, 11), 11, 'count after routable publish');
  // many confirms in flight at once
  let n = 0;
  for (let i = 0; i < 500; i++) ch.sendToQueue(q, Buffer.from('bulk'), {}, (err) => !err && n++);
  await within(15000, ch.waitForConfirms(), 'waitForConfirms (500)');
  expectEq(n, 500, 'acks for 500 publishes');
  await ch.deleteExchange(x);
  // publish to a missing exchange -> channel closed 404; waitForConfirms rejects
  ch.publish(name('x-missing'), 'rk', Buffer.from('x'), {}, () => {});
  let failed = null;
  try {
    await within(10000, ch.waitForConfirms(), 'waitForConfirms (missing exchange)');
  } catch (e) {
    if (e instanceof CheckFailed) throw e;
    failed = e;
  }
  expect(failed, 'waitForConfirms resolved after publish to missing exchange');
  await drainUntil(() => ch.lastError, 3000);
  expectEq(ch.lastError && ch.lastError.code, 404, 'channel error code for missing exchange');
});

check('mandatory_return_no_confirm', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const returned = [];
  ch.on('return', (m) => returned.push(m));
  ch.sendToQueue(name('q-none'), Buffer.from('ret'), { mandatory: true, headers: { k: 'v' } });
  await drainUntil(() => returned.length > 0, 5000);
  expectEq(returned.length, 1, 'returned messages');
  expectEq(
    [returned[0].fields.replyCode, returned[0].content.toString(), returned[0].properties.headers.k],
    [312, 'ret', 'v'],
    'returned message',
  );
});

check('transactions', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const { queue: q } = await ch.assertQueue('', { exclusive: true });
  const count = async () => (await ch.checkQueue(q)).messageCount;
  await ch.rpc(TX.Select, {}, TX.SelectOk);
  ch.sendToQueue(q, Buffer.from('rolled-back'));
  expectEq(await count(), 0, 'uncommitted publish visible');
  await ch.rpc(TX.Rollback, {}, TX.RollbackOk);
  expectEq(await count(), 0, 'count after rollback');
  ch.sendToQueue(q, Buffer.from('t1'));
  ch.sendToQueue(q, Buffer.from('t2'));
  await ch.rpc(TX.Commit, {}, TX.CommitOk);
  expectEq(await count(), 2, 'count after commit');
  const m = await ch.get(q);
  expectEq(m.content.toString(), 't1', 'first committed message');
  ch.ack(m);
  await ch.rpc(TX.Commit, {}, TX.CommitOk);
  expectEq(await count(), 1, 'count after committed ack');
  // a 2 MiB message inside a transaction
  ch.sendToQueue(q, crypto.randomBytes(2 * 1024 * 1024));
  await ch.rpc(TX.Commit, {}, TX.CommitOk);
  expectEq(await count(), 2, 'count after committing a large message');
  const ch2 = await ctx.channel(conn);
  await expectAmqpError(ch2.rpc(TX.Commit, {}, TX.CommitOk), 406, 'commit without select');
});

check('rpc_reply_to', async (ctx) => {
  const server = await ctx.connect();
  const sch = await ctx.channel(server);
  const rpcq = name('q-rpc');
  await sch.assertQueue(rpcq, { durable: false, autoDelete: true });
  await sch.prefetch(1);
  await sch.consume(rpcq, (m) => {
    sch.sendToQueue(m.properties.replyTo, Buffer.from(`reply:${m.content}`), {
      correlationId: m.properties.correlationId,
    });
    sch.ack(m);
  });
  const client = await ctx.connect();
  const cch = await ctx.channel(client);
  const { queue: replyQ } = await cch.assertQueue('', { exclusive: true });
  const replies = new Map();
  await cch.consume(replyQ, (m) => replies.set(m.properties.correlationId, m.content.toString()), { noAck: true });
  const ids = [];
  for (let i = 0; i < 5; i++) {
    const cid = crypto.randomUUID();
    ids.push(cid);
    cch.sendToQueue(rpcq, Buffer.from(`req${i}`), { replyTo: replyQ, correlationId: cid });
  }
  await drainUntil(() => replies.size >= 5, 10000);
  expectEq(replies.size, 5, 'replies');
  ids.forEach((cid, i) => {
    expectEq(replies.get(cid), `reply:req${i}`, `reply for ${cid}`);
  });
});

check('channel_error_recovery', async (ctx) => {
  const conn = await ctx.connect();
  let connClosed = false;
  conn.on('close', () => {
    connClosed = true;
  });
  const ch = await ctx.channel(conn);
  const e = await expectAmqpError(ch.checkQueue(name('q-missing')), 404, 'checkQueue of missing queue');
  expect(/NOT_FOUND/.test(e.message), `error message lacks NOT_FOUND: ${e.message}`);
  expectEq([e.classId, e.methodId], [50, 10], 'channel.close class/method ids for queue.declare');
  await drainUntil(() => ch.closed, 2000);
  expect(ch.closed, "channel did not emit 'close'");
  expect(ch.lastError && ch.lastError.code === 404, "channel did not emit 'error' with code 404");
  let threw = false;
  try {
    await ch.assertQueue('', { exclusive: true });
  } catch (_e) {
    threw = true;
  }
  expect(threw, 'closed channel accepted a method');
  expect(!connClosed, 'connection closed after a channel error');
  const ch2 = await ctx.channel(conn);
  const { queue: q } = await ch2.assertQueue('', { exclusive: true });
  ch2.sendToQueue(q, Buffer.from('after-error'));
  await waitCount(ch2, q, 1);
  const m = await ch2.get(q, { noAck: true });
  expectEq(m && m.content.toString(), 'after-error', 'message after channel error');
  await expectAmqpError(ch2.bindQueue(q, name('x-missing'), ''), 404, 'bind to missing exchange');
  const ch3 = await ctx.channel(conn);
  await ch3.assertQueue('', { exclusive: true });
  expect(!connClosed, 'connection closed after second channel error');
  // a connection-level error: unknown vhost -> connection refused with 530
  let vhostErr = null;
  try {
    const u = new URL(URL_);
    u.pathname = `/${encodeURIComponent(name('vhost-missing'))}`;
    const bad = await amqp.connect(u.toString());
    await bad.close();
  } catch (err) {
    vhostErr = err;
  }
  expect(vhostErr, 'connect to a missing vhost succeeded');
  ctx.note(`missing vhost -> ${vhostErr.message}`);
  // wrong password -> ACCESS_REFUSED
  let authErr = null;
  try {
    const u = new URL(URL_);
    u.password = 'definitely-wrong';
    const bad = await amqp.connect(u.toString());
    await bad.close();
  } catch (err) {
    authErr = err;
  }
  expect(authErr, 'connect with a wrong password succeeded');
  expect(/ACCESS_REFUSED|403/.test(authErr.message), `wrong password error: ${authErr.message}`);
});

check('heartbeat', async (ctx) => {
  const conn = await ctx.connect({ heartbeat: 2 });
  const c = conn.connection;
  expectEq(c.heartbeat, 2, 'negotiated heartbeat');
  let closed = null;
  conn.on('close', (e) => {
    closed = e || 'closed';
  });
  // amqplib emits no event for heartbeats: count the frames it accepts.
  let recvHeartbeats = 0;
  if (frameMod) {
    const accept = c.accept;
    c.accept = function (f) {
      if (f === frameMod.HEARTBEAT) recvHeartbeats++;
      return accept.call(this, f);
    };
  }
  const ch = await ctx.channel(conn);
  const { queue: q } = await ch.assertQueue('', { exclusive: true });
  await sleep(7000); // amqplib times out after two silent intervals (4 s)
  expect(!closed, `connection closed while idle: ${closed && closed.message}`);
  ctx.note(`heartbeat frames received from broker in 7s: ${recvHeartbeats}`);
  expect(!frameMod || recvHeartbeats >= 2, `broker sent ${recvHeartbeats} heartbeats in 7s with heartbeat=2`);
  ch.sendToQueue(q, Buffer.from('hb'));
  await waitCount(ch, q, 1);
  const m = await ch.get(q, { noAck: true });
  expectEq(m && m.content.toString(), 'hb', 'message after idle');
  // heartbeat=0 disables heartbeats
  const c0 = await ctx.connect({ heartbeat: 0 });
  expectEq(c0.connection.heartbeat, 0, 'heartbeat=0 negotiated');
});

check('large_message', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const { queue: q } = await ch.assertQueue('', { exclusive: true });
  const body = crypto.randomBytes(2 * 1024 * 1024);
  ch.sendToQueue(q, body, { contentType: 'application/octet-stream' });
  await waitCount(ch, q, 1, 5000);
  const m = await ch.get(q, { noAck: true });
  expect(m, '2 MiB message not received');
  expectEq(m.content.length, body.length, 'body length');
  expect(m.content.equals(body), '2 MiB body corrupted');
  ch.sendToQueue(q, body);
  const got = [];
  await ch.consume(q, (msg) => got.push(msg), { noAck: true });
  await drainUntil(() => got.length > 0, 10000);
  expect(got.length && got[0].content.equals(body), '2 MiB via consumer missing/corrupted');
  // with a small negotiated frame size
  const small = await ctx.connect({ frameMax: 4096 });
  expectEq(small.connection.frameMax, 4096, 'negotiated frameMax');
  const sch = await ctx.channel(small, true);
  const { queue: q2 } = await sch.assertQueue('', { exclusive: true });
  sch.sendToQueue(q2, body);
  await within(10000, sch.waitForConfirms(), 'waitForConfirms (frameMax 4096)');
  const m2 = await sch.get(q2, { noAck: true });
  expect(m2 && m2.content.equals(body), '2 MiB with frameMax=4096 corrupted');
});

check('consumer_cancel_notification', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const q = name('q-cancel');
  await ch.assertQueue(q, { durable: false });
  const events = [];
  const { consumerTag } = await ch.consume(q, (m) => events.push(m));
  const other = await ctx.connect();
  const och = await ctx.channel(other);
  await och.deleteQueue(q);
  await drainUntil(() => events.length > 0, 5000);
  expectEq(events, [null], 'consumer callback after queue deletion (null = broker cancel)');
  expect(!ch.consumers.has(consumerTag), 'consumer still registered after broker cancel');
  expect(!ch.closed, 'channel closed after broker cancel');
  // channel still usable
  const { queue: q2 } = await ch.assertQueue('', { exclusive: true });
  const r = await ch.consume(q2, () => {});
  await ch.cancel(r.consumerTag);
});

check('clean_close', async (ctx) => {
  const conn = await ctx.connect();
  let closeArg = 'not closed';
  conn.on('close', (e) => {
    closeArg = e;
  });
  const ch = await ctx.channel(conn);
  const { queue: q } = await ch.assertQueue('', { exclusive: true });
  ch.sendToQueue(q, Buffer.from('bye'));
  await within(5000, ch.close(), 'channel close');
  const t0 = Date.now();
  await within(5000, conn.close(), 'connection close');
  expect(Date.now() - t0 < 3000, `close took ${Date.now() - t0}ms`);
  await drainUntil(() => closeArg !== 'not closed', 2000);
  expect(closeArg === undefined || closeArg === null, `close event carried an error: ${show(closeArg && closeArg.message)}`);
  // unacked message is requeued when its connection closes
  const c2 = await ctx.connect();
  const ch2 = await ctx.channel(c2);
  const q2 = name('q-close');
  await ch2.assertQueue(q2, { durable: false });
  ch2.sendToQueue(q2, Buffer.from('unacked'));
  await waitCount(ch2, q2, 1);
  await ch2.get(q2);
  await c2.close();
  const c3 = await ctx.connect();
  const ch3 = await ctx.channel(c3);
  expectEq(await waitCount(ch3, q2, 1), 1, 'unacked message requeued after close');
  await ch3.deleteQueue(q2);
  expect(ctx.errors.length === 0, `connection errors: ${show(ctx.errors)}`);
});

// ------------------------------------------------- RabbitMQ extensions
// Not AMQP 0-9-1 proper, but RabbitMQ features that clients written for
// RabbitMQ rely on; reported separately (names start with ext_).

check('ext_alternate_exchange', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn, true);
  const alt = name('x-alt');
  const main = name('x-main');
  await ch.assertExchange(alt, 'fanout', { durable: false });
  await ch.assertExchange(main, 'direct', { durable: false, alternateExchange: alt });
  const { queue: aq } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(aq, alt, '');
  const returned = [];
  ch.on('return', (m) => returned.push(m));
  ch.publish(main, 'unbound-key', Buffer.from('to-alt'), { mandatory: true });
  await within(10000, ch.waitForConfirms(), 'waitForConfirms');
  expectEq(await waitCount(ch, aq, 1), 1, 'message routed via alternate-exchange');
  expectEq(returned.length, 0, 'mandatory message routed by the AE was returned');
  await ch.deleteExchange(main);
  await ch.deleteExchange(alt);
});

check('ext_cc_bcc', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const qs = [];
  for (let i = 0; i < 3; i++) qs.push((await ch.assertQueue('', { exclusive: true })).queue);
  ch.sendToQueue(qs[0], Buffer.from('cc'), { CC: qs[1], BCC: [qs[2]] });
  const counts = [];
  for (const q of qs) counts.push(await waitCount(ch, q, 1));
  expectEq(counts, [1, 1, 1], 'counts for routing key, CC and BCC queues');
  const m = await ch.get(qs[2], { noAck: true });
  expect(!('BCC' in (m.properties.headers || {})), `BCC header not removed: ${show(m.properties.headers)}`);
});

check('ext_dead_letter', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const dlx = name('x-dlx');
  await ch.assertExchange(dlx, 'direct', { durable: false });
  const { queue: dq } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(dq, dlx, 'dead');
  const { queue: src } = await ch.assertQueue('', { exclusive: true, deadLetterExchange: dlx, deadLetterRoutingKey: 'dead' });
  ch.sendToQueue(src, Buffer.from('dead'), { messageId: 'd1' });
  await waitCount(ch, src, 1);
  const m = await ch.get(src);
  ch.nack(m, false, false);
  expectEq(await waitCount(ch, dq, 1), 1, 'dead-lettered count after nack');
  const d = await ch.get(dq, { noAck: true });
  expectEq([d.content.toString(), d.properties.messageId], ['dead', 'd1'], 'dead-lettered message');
  const xd = d.properties.headers && d.properties.headers['x-death'];
  expect(Array.isArray(xd) && xd[0].reason === 'rejected' && xd[0].queue === src, `x-death header: ${show(xd)}`);
  await ch.deleteExchange(dlx);
});

check('ext_message_ttl', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const { queue: q } = await ch.assertQueue('', { exclusive: true });
  ch.sendToQueue(q, Buffer.from('short'), { expiration: 200 });
  ch.sendToQueue(q, Buffer.from('long'), { expiration: 600000 });
  await sleep(600);
  const m = await ch.get(q, { noAck: true });
  expectEq(m && m.content.toString(), 'long', 'first message after per-message expiration of the head');
  const { queue: tq } = await ch.assertQueue('', { exclusive: true, messageTtl: 200 });
  ch.sendToQueue(tq, Buffer.from('expire-me'));
  await sleep(600);
  expectEq(await waitCount(ch, tq, 0), 0, 'x-message-ttl queue count after 600ms');
});

check('ext_queue_expires', async (ctx) => {
  const conn = await ctx.connect();
  let ch = await ctx.channel(conn);
  const q = name('q-expires');
  await ch.assertQueue(q, { durable: false, expires: 1000 });
  await sleep(2500);
  await expectAmqpError(ch.checkQueue(q), 404, 'queue with expires=1000 after 2.5s unused');
  ch = await ctx.channel(conn);
});

check('ext_max_length', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn, true);
  const { queue: q } = await ch.assertQueue('', { exclusive: true, maxLength: 2 });
  for (let i = 0; i < 5; i++) ch.sendToQueue(q, Buffer.from(String(i)));
  await within(10000, ch.waitForConfirms(), 'waitForConfirms');
  expectEq(await waitCount(ch, q, 2), 2, 'count with maxLength 2 (drop-head)');
  const m = await ch.get(q, { noAck: true });
  expectEq(m.content.toString(), '3', 'oldest kept message');
  const { queue: rq } = await ch.assertQueue('', { exclusive: true, maxLength: 1, overflow: 'reject-publish' });
  const res = [];
  ch.sendToQueue(rq, Buffer.from('fits'), {}, (err) => res.push(err ? 'nack' : 'ack'));
  ch.sendToQueue(rq, Buffer.from('overflow'), {}, (err) => res.push(err ? 'nack' : 'ack'));
  try {
    await within(10000, ch.waitForConfirms(), 'waitForConfirms (reject-publish)');
  } catch (e) {
    if (e instanceof CheckFailed) throw e;
  }
  expectEq(res, ['ack', 'nack'], 'confirms with reject-publish overflow');
});

check('ext_priority_queue', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const { queue: q } = await ch.assertQueue('', { exclusive: true, maxPriority: 10 });
  for (const p of [1, 9, 5, 0]) ch.sendToQueue(q, Buffer.from(`p${p}`), { priority: p });
  await waitCount(ch, q, 4);
  const order = [];
  for (let i = 0; i < 4; i++) order.push((await ch.get(q, { noAck: true })).content.toString());
  expectEq(order, ['p9', 'p5', 'p1', 'p0'], 'priority order');
});

check('ext_direct_reply_to', async (ctx) => {
  const server = await ctx.connect();
  const sch = await ctx.channel(server);
  const rpcq = name('q-drt');
  await sch.assertQueue(rpcq, { durable: false, autoDelete: true });
  let seenReplyTo = null;
  await sch.consume(rpcq, (m) => {
    seenReplyTo = m.properties.replyTo;
    sch.sendToQueue(m.properties.replyTo, Buffer.from('pong'), { correlationId: m.properties.correlationId });
    sch.ack(m);
  });
  const client = await ctx.connect();
  const cch = await ctx.channel(client);
  const replies = [];
  await cch.consume('amq.rabbitmq.reply-to', (m) => replies.push([m.properties.correlationId, m.content.toString()]), {
    noAck: true,
  });
  cch.sendToQueue(rpcq, Buffer.from('ping'), { replyTo: 'amq.rabbitmq.reply-to', correlationId: 'c1' });
  await drainUntil(() => replies.length > 0, 5000);
  expect(
    String(seenReplyTo).startsWith('amq.rabbitmq.reply-to.'),
    `server saw replyTo ${show(seenReplyTo)}; want amq.rabbitmq.reply-to.<id>`,
  );
  expectEq(replies, [['c1', 'pong']], 'direct reply-to replies');
});

check('ext_single_active_consumer', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const q = name('q-sac');
  await ch.assertQueue(q, { durable: false, autoDelete: true, arguments: { 'x-single-active-consumer': true } });
  const got = { first: 0, second: 0 };
  await ch.consume(q, () => got.first++, { noAck: true });
  await ch.consume(q, () => got.second++, { noAck: true });
  for (let i = 0; i < 6; i++) ch.sendToQueue(q, Buffer.from('x'));
  await sleep(1500);
  expectEq(got, { first: 6, second: 0 }, 'deliveries per consumer with x-single-active-consumer');
});

check('ext_consumer_priority', async (ctx) => {
  const conn = await ctx.connect();
  const ch = await ctx.channel(conn);
  const { queue: q } = await ch.assertQueue('', { exclusive: true });
  await ch.prefetch(1);
  const got = [];
  await ch.consume(q, () => got.push('low'), { priority: 1 });
  await ch.consume(q, () => got.push('high'), { priority: 10 });
  ch.sendToQueue(q, Buffer.from('x'));
  await sleep(1000);
  expectEq(got, ['high'], 'consumer that got the message (priority 10 vs 1)');
});

async function main() {
  const args = process.argv.slice(2);
  let only = null;
  const i = args.indexOf('--only');
  if (i >= 0) {
    only = new Set(args[i + 1].split(','));
    args.splice(i, 2);
  }
  if (args.length) URL_ = args[0];
  const version = require(path.join(path.dirname(require.resolve('amqplib')), 'package.json')).version;
  console.log(`amqplib ${version} against ${URL_}`);
  let passed = 0;
  let failed = 0;
  for (const { name: n, fn } of CHECKS) {
    if (only && !only.has(n)) continue;
    const ctx = new Ctx();
    const t0 = Date.now();
    let status = 'PASS';
    let detail = '';
    try {
      await within(CHECK_TIMEOUT_MS, fn(ctx), n);
    } catch (e) {
      status = 'FAIL';
      if (e instanceof CheckFailed) detail = e.message;
      else {
        const at = (e.stack || '').split('\n').find((l) => l.includes('amqplib_smoke.js'));
        detail = `${e.name}: ${e.message}${e.code !== undefined ? ` (code ${e.code})` : ''}${at ? ` ${at.trim()}` : ''}`;
      }
    }
    await ctx.cleanup();
    if (status === 'PASS') passed++;
    else failed++;
    console.log(`${status} ${n.padEnd(30)} ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s${detail ? `  ${detail}` : ''}`);
    for (const note of ctx.notes) console.log(`     note: ${note}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

process.on('unhandledRejection', (e) => {
  console.log(`     (unhandled rejection: ${e && e.message})`);
});

main().catch((e) => {
  console.log(`FATAL ${e && e.stack}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
