import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { connect, headers, NatsError, type JetStreamManager, type NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import {
  BusFull,
  createInProcessBus,
  createNatsBus,
  jsonCodec,
  NoConsumerError,
  type Bus,
} from '../src/core/bus/index.js';
import { Overloaded, Unavailable } from '../src/core/errors.js';
import { createLogger } from '../src/core/log.js';
import { READINGS_TOPIC, ReadingBatchBuilder, type ReadingBatch } from '../src/core/readings.js';
import { until } from './helpers.js';
import { needService, services } from './services.js';

// One contract, two buses. Where they differ by design (see src/core/bus/bus.ts), the test says
// what each one promises: in-process, "published" means "handled" and failures reach the
// publisher; on NATS, "published" means "stored", and failures are redelivered, then dead-lettered.

type Kind = 'in-process' | 'nats';
const KINDS: Kind[] = ['in-process', 'nats'];
const TOPIC = 'meter-events';
// a safety net, not a measurement: a contract broken by a hung handler fails instead of stalling the suite
const LIMIT = { timeout: 60_000 };

interface DeadLetter {
  topic: string;
  reason: string;
  deliveries: string;
  data: Uint8Array;
}

interface World {
  kind: Kind;
  /**
   * A bus as another process would open it: the same bus in-process, a new connection on NATS
   * (where `overrides` replace the world's options for this bus).
   */
  open(overrides?: WorldOptions): Promise<Bus>;
  /** JSON log lines the buses wrote. */
  logs: Record<string, unknown>[];
  /** The metrics a bus exports (each bus has its own registry, as each process has). */
  metricsOf(bus: Bus): Promise<string>;
  /** NATS only: messages in a topic's work-queue stream (stored, not yet acknowledged). */
  stored(topic: string): Promise<number>;
  /** NATS only: what the dead-letter stream holds. */
  deadLetters(): Promise<DeadLetter[]>;
  /**
   * Lets the bus's background work run (in-process: event-loop turns; NATS: round trips to the
   * server), so something that was going to happen without the test's help has happened.
   */
  settle(): Promise<void>;
  /** NATS only: publishes raw bytes on a topic's subject, as a foreign or broken publisher would. */
  publishRaw(topic: string, data: Uint8Array, codec: string): Promise<void>;
}

interface WorldOptions {
  maxDeliver?: number;
  ackWaitMs?: number;
  /** Messages a topic's queue holds before publishes are refused (NATS: `maxMessages`). */
  queueLimit?: number;
  /** NATS only: bytes a topic's stream holds before publishes are refused. */
  maxBytes?: number;
}

/** The buses of one test; everything they opened is closed and their streams deleted after it. */
async function world(t: TestContext, kind: Kind, options: WorldOptions = {}): Promise<World | undefined> {
  const logs: Record<string, unknown>[] = [];
  const log = createLogger('info', {
    write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>),
  });
  const registries = new Map<Bus, Registry>();
  const metricsOf = (bus: Bus) => registries.get(bus)!.metrics();
  const notNats = () => Promise.reject(new Error('only the NATS bus has streams'));
  if (kind === 'in-process') {
    const metrics = new Registry();
    const bus = createInProcessBus({ queueLimit: options.queueLimit, metrics });
    registries.set(bus, metrics);
    t.after(() => bus.close());
    const settle = async () => {
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    return {
      kind,
      open: async () => bus,
      logs,
      metricsOf,
      settle,
      stored: notNats,
      deadLetters: notNats,
      publishRaw: notNats,
    };
  }

  if (!(await needService(t, 'nats'))) return undefined;
  // every test gets its own streams, so tests never see each other's messages
  const prefix = `TEST_${randomBytes(6).toString('hex').toUpperCase()}`;
  const streamOf = (topic: string) => `${prefix}_${topic.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  const admin: NatsConnection = await connect({ servers: services.nats.url });
  const jsm: JetStreamManager = await admin.jetstreamManager();
  const buses: Bus[] = [];
  t.after(async () => {
    await Promise.all(buses.map((b) => b.close()));
    for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix}_`)) await jsm.streams.delete(name);
    await admin.close();
  });
  const notFound = (err: unknown) => {
    if (err instanceof NatsError && err.api_error?.err_code === 10059) return undefined;
    throw err;
  };
  return {
    kind,
    logs,
    metricsOf,
    async open(overrides = {}) {
      const metrics = new Registry();
      const o = { ...options, ...overrides };
      const bus = await createNatsBus({
        url: services.nats.url,
        stream: prefix,
        maxAgeS: 600,
        replicas: 1,
        maxDeliver: o.maxDeliver ?? 5,
        ackWaitMs: o.ackWaitMs ?? 30_000,
        maxMessages: o.queueLimit ?? 1_000_000,
        maxBytes: o.maxBytes ?? 1024 ** 3,
        retryDelayMs: 20, // keeps redelivery tests quick; production starts at 1 s
        log,
        metrics,
      });
      buses.push(bus);
      registries.set(bus, metrics);
      return bus;
    },
    async settle() {
      for (let i = 0; i < 5; i++) await admin.flush();
    },
    async stored(topic) {
      const info = await jsm.streams.info(streamOf(topic)).catch(notFound);
      return info?.state.messages ?? 0;
    },
    async deadLetters() {
      const info = await jsm.streams.info(`${prefix}_DLQ`).catch(notFound);
      if (!info || info.state.messages === 0) return [];
      const out: DeadLetter[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(`${prefix}_DLQ`, { seq });
        const h = (name: string) => m.header.get(name);
        out.push({
          topic: h('Wattline-Topic'),
          reason: h('Wattline-Reason'),
          deliveries: h('Wattline-Deliveries'),
          data: m.data,
        });
      }
      return out;
    },
    async publishRaw(topic, data, codec) {
      const h = headers();
      h.set('Wattline-Codec', codec);
      await admin.jetstream().publish(`${prefix}.${streamOf(topic).slice(prefix.length + 1)}`, data, { headers: h });
    },
  };
}

/** A promise the test opens when it chooses: holds handlers mid-message. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** A NaN carrying a payload: only a byte-exact trip keeps it. */
function payloadNaN(): number {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, 0x7ff8_0000_0bad_cafen, true);
  return new Float64Array(bytes.buffer)[0];
}

function readingBatch(rows: number, series = 7): ReadingBatch {
  const builder = new ReadingBatchBuilder(rows + 5); // capacity above length, as ingest hands them out
  const t0 = Date.UTC(2024, 5, 1);
  for (let i = 0; i < rows; i++) {
    const value = i % 97 === 3 ? payloadNaN() : i % 89 === 5 ? -0 : Math.sin(i) * 1e3;
    builder.add({ series: `site-${i % series}/meter/power`, ts: t0 + i * 1000, value });
  }
  return builder.take();
}

/** Rows of several batches (parts of one, on NATS) in time order, as comparable bytes and keys. */
function flatten(batches: ReadingBatch[]) {
  const parts = [...batches].sort((a, b) => a.ts[0] - b.ts[0]);
  const rows = parts.reduce((n, b) => n + b.length, 0);
  const ts = new Float64Array(rows);
  const value = new Float64Array(rows);
  const keys: string[] = [];
  let at = 0;
  for (const b of parts) {
    ts.set(b.ts.subarray(0, b.length), at);
    value.set(b.value.subarray(0, b.length), at);
    for (let i = 0; i < b.length; i++) keys.push(b.keys[b.keyIndex[i]]);
    at += b.length;
  }
  return { keys, ts: Buffer.from(ts.buffer), value: Buffer.from(value.buffer) };
}

for (const kind of KINDS) {
  test(`${kind} bus: a broadcast reaches every subscriber, and only while it is subscribed`, LIMIT, async (t) => {
    const w = await world(t, kind);
    if (!w) return;
    const [a, b] = [await w.open(), await w.open()];
    const got = { a: [] as number[], b: [] as number[] };
    const stopA = a.subscribe<{ n: number }>('notices', (m) => got.a.push(m.n));
    b.subscribe<{ n: number }>('notices', (m) => got.b.push(m.n));
    await w.settle(); // NATS: the subscriptions have reached the server
    a.broadcast('notices', { n: 1 });
    await until(() => got.a.length === 1 && got.b.length === 1, 10_000, 'the first broadcast');
    stopA();
    await w.settle();
    b.broadcast('notices', { n: 2 });
    await until(() => got.b.length === 2, 10_000, 'the second broadcast');
    await w.settle();
    assert.deepEqual(got, { a: [1], b: [1, 2] });
  });

  test(
    `${kind} bus: every published message is handled exactly once, even with two consumers on the topic`,
    LIMIT,
    async (t) => {
      const w = await world(t, kind);
      if (!w) return;
      const [a, b] = [await w.open(), await w.open()];
      const handled = new Map<number, number>();
      const started = { a: 0, b: 0 };
      const release = gate();
      const consumer = (who: 'a' | 'b') => async (m: { id: number }) => {
        started[who]++;
        await release.opened;
        handled.set(m.id, (handled.get(m.id) ?? 0) + 1);
      };
      a.consume(TOPIC, consumer('a'));
      b.consume(TOPIC, consumer('b'));

      const ids = Array.from({ length: 100 }, (_, i) => i);
      const published = Promise.all(ids.map((id) => a.publish(TOPIC, { id })));
      // both consumers hold several messages at once: the topic's work is split, not copied, and
      // each consumer works on more than one message at a time (the persistor commits them together)
      await until(() => started.a > 1 && started.b > 1, 10_000, 'both consumers to take several messages');
      release.open();
      await published;
      await until(() => handled.size === ids.length, 10_000, 'every message to be handled');
      await Promise.all([a.close(), b.close()]); // nothing may arrive a second time while they finish
      assert.deepEqual(
        [...handled.keys()].sort((x, y) => x - y),
        ids,
      );
      assert.deepEqual(
        [...handled.entries()].filter(([, n]) => n !== 1),
        [],
      );
    },
  );

  test(`${kind} bus: publish resolves only once the message is durable`, LIMIT, async (t) => {
    const w = await world(t, kind);
    if (!w) return;
    if (w.kind === 'in-process') {
      const bus = await w.open();
      // durable means handled: with nobody to hand it to, the publisher hears so
      await assert.rejects(bus.publish(TOPIC, { id: 1 }), NoConsumerError);
      const release = gate();
      let handled = false;
      let started = false;
      bus.consume(TOPIC, async () => {
        started = true;
        await release.opened;
        handled = true;
      });
      let resolved = false;
      const publishing = bus.publish(TOPIC, { id: 1 }).then(() => (resolved = true));
      await until(() => started, 10_000, 'the handler to start');
      assert.equal(resolved, false, 'publish resolved before the handler finished');
      release.open();
      await publishing;
      assert.equal(handled, true);
      return;
    }
    // durable means stored: each publish resolves with the message in the stream, and it outlives
    // its publisher until a consumer started later takes it
    const publisher = await w.open();
    for (const id of [1, 2, 3]) {
      await publisher.publish(TOPIC, { id });
      assert.equal(await w.stored(TOPIC), id);
    }
    await publisher.close();
    const consumer = await w.open();
    const seen: number[] = [];
    consumer.consume(TOPIC, async (m: { id: number }) => void seen.push(m.id));
    await until(() => seen.length === 3, 10_000, 'the stored messages to be handled');
    assert.deepEqual(seen.sort(), [1, 2, 3]);
    await until(async () => (await w.stored(TOPIC)) === 0, 10_000, 'handled messages to leave the stream');
  });

  test(`${kind} bus: a failed message is handled once its handler succeeds`, LIMIT, async (t) => {
    const w = await world(t, kind);
    if (!w) return;
    const bus = await w.open();
    let attempts = 0;
    const handled: number[] = [];
    bus.consume(TOPIC, async (m: { id: number }) => {
      attempts++;
      if (attempts <= 2) throw new Error(`store unavailable (attempt ${attempts})`);
      handled.push(m.id);
    });
    if (w.kind === 'in-process') {
      // no redelivery in-process: the failure reaches the publisher, who retries (an ingest
      // request answers 5xx and its client sends again)
      await assert.rejects(bus.publish(TOPIC, { id: 1 }), /store unavailable \(attempt 1\)/);
      await assert.rejects(bus.publish(TOPIC, { id: 1 }), /store unavailable \(attempt 2\)/);
      await bus.publish(TOPIC, { id: 1 });
    } else {
      await bus.publish(TOPIC, { id: 1 });
      await until(() => handled.length === 1, 10_000, 'the message to be redelivered until handled');
      await bus.close();
      assert.equal(w.logs.filter((l) => l.msg === 'bus message failed; it will be delivered again').length, 2);
      assert.equal(await w.stored(TOPIC), 0);
    }
    assert.deepEqual(handled, [1]);
    assert.equal(attempts, 3);
  });

  test(
    `${kind} bus: a store outage loses nothing and dead-letters nothing, however long it lasts`,
    LIMIT,
    async (t) => {
      const w = await world(t, kind, { maxDeliver: 2 });
      if (!w) return;
      const bus = await w.open();
      let storeUp = false;
      let attempts = 0;
      const handled: number[] = [];
      bus.consume(TOPIC, async (m: { id: number }) => {
        attempts++;
        if (!storeUp) throw new Unavailable('store', 'the store is unavailable; retry shortly');
        handled.push(m.id);
      });
      if (w.kind === 'in-process') {
        // the publisher hears it (ingest answers 503 with Retry-After) and sends again
        await assert.rejects(
          bus.publish(TOPIC, { id: 1 }),
          (err: unknown) => err instanceof Unavailable && err.status === 503 && err.retryAfterS > 0,
        );
        storeUp = true;
        await bus.publish(TOPIC, { id: 1 });
      } else {
        await bus.publish(TOPIC, { id: 1 });
        await bus.publish(TOPIC, { id: 2 });
        // held well past maxDeliver attempts: none of them counts as a delivery
        await until(() => attempts > 6, 20_000, 'the messages to be tried through the outage');
        assert.deepEqual(await w.deadLetters(), []);
        storeUp = true;
        await until(() => handled.length === 2, 20_000, 'the held messages to be handled once the store is back');
        await until(async () => (await w.stored(TOPIC)) === 0, 10_000, 'handled messages to leave the stream');
        assert.deepEqual(await w.deadLetters(), []);
        assert.ok(w.logs.some((l) => String(l.msg).startsWith('bus consumer holds its messages')));
        assert.ok(!w.logs.some((l) => l.msg === 'bus message dead-lettered'));
      }
      assert.deepEqual(
        handled.sort((a, b) => a - b),
        w.kind === 'nats' ? [1, 2] : [1],
      );
      assert.deepEqual(await bus.deadLetters(), []);
    },
  );

  test(`${kind} bus: close() waits for the handlers still running`, LIMIT, async (t) => {
    const w = await world(t, kind);
    if (!w) return;
    const bus = await w.open();
    const release = gate();
    let started = false;
    let finished = false;
    bus.consume(TOPIC, async () => {
      started = true;
      await release.opened;
      finished = true;
    });
    const publishing = bus.publish(TOPIC, { id: 1 });
    await until(() => started, 10_000, 'the handler to start');
    assert.equal(await bus.ready(), true);

    let finishedWhenClosed: boolean | undefined;
    const closing = bus.close().then(() => (finishedWhenClosed = finished));
    await until(async () => !(await bus.ready()), 10_000, 'close to begin');
    await w.settle();
    assert.equal(finishedWhenClosed, undefined, 'close() resolved while a handler was running');
    release.open();
    await closing;
    assert.equal(finishedWhenClosed, true);
    await publishing;
    if (w.kind === 'nats')
      assert.equal(await w.stored(TOPIC), 0, 'the message was not acknowledged before the connection closed');
  });

  test(`${kind} bus: a full queue refuses publishes with BusFull until its messages are consumed`, LIMIT, async (t) => {
    const w = await world(t, kind, { queueLimit: 3 });
    if (!w) return;
    const bus = await w.open();
    const release = gate();
    let started = 0;
    const handled: number[] = [];
    bus.consume(TOPIC, async (m: { id: number }) => {
      started++;
      await release.opened;
      handled.push(m.id);
    });
    // three messages fill the queue; their handlers hold them, so none has left it
    const first = [1, 2, 3].map((id) => bus.publish(TOPIC, { id }));
    await until(() => started === 3, 10_000, 'the three messages to be taken');
    const isBusFull = (err: unknown) =>
      err instanceof BusFull && err instanceof Overloaded && err.topic === TOPIC && err.retryAfterS === 1;
    await assert.rejects(bus.publish(TOPIC, { id: 4 }), isBusFull);
    // a publisher can ask before it does any work, and the answer is per topic
    await assert.rejects(bus.checkRoom(TOPIC), isBusFull);
    await bus.checkRoom('other-topic');
    assert.match(await w.metricsOf(bus), /^bus_queue_fill_ratio\{topic="meter-events"\} 1$/m);

    release.open();
    await Promise.all(first);
    await until(
      () =>
        bus.checkRoom(TOPIC).then(
          () => true,
          () => false,
        ),
      10_000,
      'room once the messages are handled',
    );
    await bus.publish(TOPIC, { id: 5 });
    await until(() => handled.length === 4, 10_000, 'the last message to be handled');
    assert.deepEqual(
      handled.sort((a, b) => a - b),
      [1, 2, 3, 5],
    );
    const refused = /^bus_publish_refused_total\{topic="meter-events"\} (\d+)$/m.exec(await w.metricsOf(bus));
    assert.ok(Number(refused?.[1]) >= 2, 'refusals are counted');
  });

  test(`${kind} bus: a reading batch arrives byte-exact, however large`, LIMIT, async (t) => {
    const w = await world(t, kind);
    if (!w) return;
    const bus = await w.open();
    const received: ReadingBatch[] = [];
    bus.consume(READINGS_TOPIC, async (batch: ReadingBatch) => void received.push(batch));

    // 60,000 rows encode to ~1.2 MB, over NATS' default 1 MB max_payload: the bus splits the batch
    for (const sent of [readingBatch(500), readingBatch(0), readingBatch(60_000, 300)]) {
      received.length = 0;
      await bus.publish(READINGS_TOPIC, sent);
      await until(
        () => received.length > 0 && received.reduce((n, b) => n + b.length, 0) === sent.length,
        10_000,
        `${sent.length} rows to arrive`,
      );
      assert.deepEqual(flatten(received), flatten([sent]));
    }
  });
}

test('nats bus: a stream at its byte limit refuses publishes until its messages are consumed', LIMIT, async (t) => {
  const w = await world(t, 'nats', { maxBytes: 64 * 1024 });
  if (!w) return;
  const bus = await w.open();
  let refusal: unknown;
  let published = 0;
  while (!refusal && published < 100) {
    await bus.publish(READINGS_TOPIC, readingBatch(500)).then(
      () => published++,
      (err: unknown) => (refusal = err),
    );
  }
  assert.ok(refusal instanceof BusFull, `refused with ${String(refusal)}`);
  assert.match(refusal.message, /maximum bytes exceeded/);
  assert.ok(published > 0);
  assert.equal(await w.stored(READINGS_TOPIC), published, 'the stream kept every message it took');

  let handled = 0;
  bus.consume(READINGS_TOPIC, async () => void handled++);
  await until(() => handled === published, 10_000, 'the stored batches to be handled');
  await until(
    () =>
      bus.checkRoom(READINGS_TOPIC).then(
        () => true,
        () => false,
      ),
    10_000,
    'room once the stream drained',
  );
  await bus.publish(READINGS_TOPIC, readingBatch(500));
});

test('nats bus: lowering the stream limits never drops messages nobody has handled', LIMIT, async (t) => {
  const w = await world(t, 'nats', { queueLimit: 10 });
  if (!w) return;
  const first = await w.open();
  for (let id = 1; id <= 6; id++) await first.publish(TOPIC, { id });
  await first.close();

  // the server would delete messages to fit a limit below what the stream holds: the old one stays
  const second = await w.open({ queueLimit: 4 });
  await second.publish(TOPIC, { id: 7 });
  assert.equal(await w.stored(TOPIC), 7);
  assert.ok(w.logs.some((l) => String(l.msg).startsWith('bus stream holds too much to lower its limit safely')));
  const handled: number[] = [];
  second.consume(TOPIC, async (m: { id: number }) => void handled.push(m.id));
  await until(() => handled.length === 7, 10_000, 'every message to be handled');
  await second.close();

  // drained, the stream takes the lower limit from the next bus that opens it
  const third = await w.open({ queueLimit: 4 });
  for (let id = 8; id <= 11; id++) await third.publish(TOPIC, { id });
  await assert.rejects(third.publish(TOPIC, { id: 12 }), BusFull);
});

test('nats bus: a message that keeps failing lands in the dead-letter stream with its reason', LIMIT, async (t) => {
  const w = await world(t, 'nats', { maxDeliver: 3 });
  if (!w) return;
  const bus = await w.open();
  let attempts = 0;
  bus.consume(TOPIC, async () => {
    attempts++;
    throw new Error('series home/x is not in the catalog');
  });
  const message = { id: 42, meter: 'Zähler 7' };
  await bus.publish(TOPIC, message);
  await until(async () => (await w.deadLetters()).length === 1, 10_000, 'the message to be dead-lettered');

  const [dead] = await w.deadLetters();
  assert.equal(dead.topic, TOPIC);
  assert.equal(dead.deliveries, '3');
  assert.equal(dead.reason, 'handler failed 3 times, last: series home/x is not in the catalog');
  assert.deepEqual(jsonCodec.decode(dead.data), message);
  assert.equal(attempts, 3);
  await until(async () => (await w.stored(TOPIC)) === 0, 10_000, 'the message to leave the work queue');
  const logged = w.logs.find((l) => l.msg === 'bus message dead-lettered');
  assert.equal(logged?.level, 50); // error: a person must act
  assert.equal(logged?.reason, dead.reason);
});

test('nats bus: a message that cannot be decoded is dead-lettered at once, never handled', LIMIT, async (t) => {
  const w = await world(t, 'nats');
  if (!w) return;
  const bus = await w.open();
  const received: ReadingBatch[] = [];
  bus.consume(READINGS_TOPIC, async (batch: ReadingBatch) => void received.push(batch));
  await bus.publish(READINGS_TOPIC, readingBatch(10)); // also proves the stream exists
  await until(() => received.length === 1, 10_000, 'the good batch to arrive');

  await w.publishRaw(READINGS_TOPIC, new Uint8Array([0x57, 0x52, 0x42, 1, 5, 0, 0, 0]), 'reading-batch/1');
  await until(async () => (await w.deadLetters()).length === 1, 10_000, 'the broken message to be dead-lettered');
  const [dead] = await w.deadLetters();
  assert.equal(dead.deliveries, '1');
  assert.match(dead.reason, /^cannot decode: reading batch is truncated: 8 bytes/);
  assert.equal(received.length, 1);
});

test('nats bus: a message whose handler never answers is dead-lettered, not delivered forever', LIMIT, async (t) => {
  const release = gate();
  t.after(release.open); // registered before the world's cleanup, whose close() waits for the stuck handler
  const w = await world(t, 'nats', { maxDeliver: 1, ackWaitMs: 1000 });
  if (!w) return;
  const bus = await w.open();
  let attempts = 0;
  bus.consume(TOPIC, async () => {
    attempts++;
    await release.opened;
  });
  await bus.publish(TOPIC, { id: 9 });
  await until(async () => (await w.deadLetters()).length === 1, 10_000, 'the unanswered message to be dead-lettered');
  const [dead] = await w.deadLetters();
  assert.equal(dead.reason, 'not acknowledged in 1 deliveries (ack wait 1000 ms)');
  assert.equal(attempts, 1);
  release.open();
});

test(
  'nats bus: a message the store refuses is dead-lettered with its reason, listed, and put back by replay',
  LIMIT,
  async (t) => {
    const w = await world(t, 'nats', { maxDeliver: 2 });
    if (!w) return;
    const bus = await w.open();
    let fixed = false;
    const handled: unknown[] = [];
    bus.consume(TOPIC, async (m: unknown) => {
      // a refusal, not an outage: the store answered, and will answer the same next time
      if (!fixed) throw new Error('value violates check constraint "readings_value_check"');
      handled.push(m);
    });
    const message = { id: 7, meter: 'Zähler 7' };
    await bus.publish(TOPIC, message);
    await until(async () => (await bus.deadLetters()).length === 1, 10_000, 'the refused message to be dead-lettered');
    const [dead] = await bus.deadLetters({ topic: TOPIC });
    assert.equal(dead.topic, TOPIC);
    assert.equal(dead.reason, 'handler failed 2 times, last: value violates check constraint "readings_value_check"');
    assert.equal(dead.deliveries, 2);
    assert.equal(dead.bytes, jsonCodec.encode(message).length);
    assert.ok(Math.abs(Date.parse(dead.time) - Date.now()) < 60_000, `time ${dead.time}`);
    assert.deepEqual(await bus.deadLetters({ topic: 'another-topic' }), []);
    assert.deepEqual(handled, []);

    fixed = true; // say the operator fixed what made the store refuse it
    assert.equal(await bus.replayDeadLetters({ topic: TOPIC, ids: [dead.id] }), 1);
    await until(() => handled.length === 1, 10_000, 'the replayed message to be handled');
    assert.deepEqual(handled, [message]);
    assert.deepEqual(await bus.deadLetters(), []);
    assert.equal(await bus.replayDeadLetters(), 0);
  },
);
