/**
 * Fuzzing the MQTT payload readers of every device family (issue 20, point 1): recorded payloads
 * (test/fixtures/devices) with their values, keys and shapes mutated, plus payloads that are not JSON,
 * on the family's usual topics. A reader must return readings with finite values and times, or throw
 * `MalformedPayload` saying why — any other error is a reader bug (the subscriber would log it as one
 * and drop the message), and it must not take long. A short run is part of `npm test`; FUZZ_RUNS scales it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { MalformedPayload } from '../../src/modules/devices/format.js';
import { FORMATS } from '../../src/modules/devices/formats/index.js';
import { Regressions } from './harness.js';

const REGRESSIONS = new Regressions(path.join(import.meta.dirname, 'regressions', 'devices'));
/** Runs per family in the short run (`npm test`). */
const RUNS = 300;
const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'devices');

/** Each family's usual topic filter and a topic it matches (settings.ts's defaults). */
const TOPICS: Record<string, { filter: string; topics: string[] }> = {
  tasmota: { filter: 'tele/+/SENSOR', topics: ['tele/plug/SENSOR'] },
  'shelly-gen1': {
    filter: 'shellies/#',
    topics: ['shellies/plug/relay/0/power', 'shellies/plug/emeter/0/total', 'shellies/em/emeter/1/energy'],
  },
  'shelly-gen2': { filter: '+/events/rpc', topics: ['shellyplus/events/rpc'] },
  zigbee2mqtt: { filter: 'zigbee2mqtt/#', topics: ['zigbee2mqtt/kitchen/plug', 'zigbee2mqtt/bridge/state'] },
  emonhub: { filter: 'emon/#', topics: ['emon/emontx/power1', 'emon/emontx'] },
  json: { filter: 'wattline/#', topics: ['wattline/meter'] },
};

/** Every recorded payload, by the family its file is named after (json and z2m get hand-made ones). */
function samples(): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {
    json: [{ series: 'home/meter/power', value: 230.5, ts: '2024-06-01T00:00:00Z', unit: 'W' }],
    zigbee2mqtt: [{ power: 12.5, energy: 1.234, voltage: 231, current: 0.06, linkquality: 120 }],
    emonhub: [{ power1: 100, power2: 200, vrms: 240, time: 1717200000 }, 100],
  };
  for (const file of fs.readdirSync(FIXTURES)) {
    const family = file.startsWith('tasmota') ? 'tasmota' : file.includes('gen1') ? 'shelly-gen1' : 'shelly-gen2';
    const recorded = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as { payload: unknown }[];
    (out[family] ??= []).push(...recorded.map((r) => r.payload));
  }
  return out;
}

const scalar = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -1, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 1717200000, 1717200000000),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('NaN', 'Infinity', '', '2024-06-01T00:00:00', 'on', 'ON', null, true, false),
  fc.constant([]),
  fc.constant({}),
);

/** The sample with one value somewhere replaced, one key dropped, or wrapped in an array. */
function mutate(sample: unknown): fc.Arbitrary<unknown> {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, at: (string | number)[]) => {
    if (at.length) paths.push(at);
    if (v && typeof v === 'object')
      for (const [k, child] of Object.entries(v)) walk(child, [...at, Array.isArray(v) ? Number(k) : k]);
  };
  walk(sample, []);
  const setAt = (v: unknown, at: (string | number)[], to: unknown, drop: boolean): unknown => {
    if (!at.length) return to;
    const copy = Array.isArray(v) ? [...v] : { ...(v as object) };
    const [head, ...rest] = at;
    if (drop && !rest.length) delete (copy as Record<string | number, unknown>)[head];
    else
      (copy as Record<string | number, unknown>)[head] = setAt(
        (v as Record<string | number, unknown>)[head],
        rest,
        to,
        drop,
      );
    return copy;
  };
  if (!paths.length) return fc.oneof(fc.constant(sample), scalar);
  return fc.oneof(
    fc.tuple(fc.constantFrom(...paths), scalar, fc.boolean()).map(([at, to, drop]) => setAt(sample, at, to, drop)),
    fc.constant([sample]),
    fc.constant(sample),
  );
}

/** One MQTT message as JSON: text payloads as they are, any other bytes in base64. */
interface Message {
  topic: string;
  text?: string;
  base64?: string;
}
const bytesOf = (m: Message) => (m.base64 !== undefined ? Buffer.from(m.base64, 'base64') : Buffer.from(m.text ?? ''));

/** The property of `family`'s reader: every message of a run gives finite readings or MalformedPayload. */
function readerProperty(family: string) {
  const format = FORMATS[family as keyof typeof FORMATS]!;
  const { filter } = TOPICS[family];
  return (messages: Message[]) => {
    const state = new Map<string, unknown>();
    for (const message of messages) {
      const bytes = bytesOf(message);
      const shown = `${message.topic} ${bytes.toString().slice(0, 200)}`;
      const started = performance.now();
      try {
        const parsed = format.parse(bytes, {
          topic: message.topic,
          filter,
          zone: 'Europe/Lisbon',
          receivedMs: Date.UTC(2024, 5, 1),
          state,
        });
        for (const r of parsed.readings) {
          assert.ok(Number.isFinite(r.value), `${shown}: value ${r.value}`);
          assert.ok(Number.isFinite(r.ts), `${shown}: ts ${r.ts}`);
        }
      } catch (err) {
        if (err instanceof MalformedPayload) assert.ok(err.message.length > 0, 'a reason');
        else if (err instanceof assert.AssertionError) throw err;
        else throw new Error(`${family} reader threw ${(err as Error).message} for ${shown}`);
      }
      assert.ok(performance.now() - started < 1000, `${family} took over a second`);
    }
  };
}

const families = Object.keys(TOPICS).filter((f) => FORMATS[f as keyof typeof FORMATS]);
for (const family of families) {
  test(`mqtt ${family}: any payload gives finite readings or MalformedPayload, never another error`, () => {
    const recorded = samples()[family] ?? [];
    const payload = fc.oneof(
      ...recorded.map((s) => mutate(s).map((v) => ({ text: typeof v === 'string' ? v : JSON.stringify(v) }))),
      fc.string({ maxLength: 200 }).map((text) => ({ text })),
      fc.uint8Array({ maxLength: 200 }).map((b) => ({ base64: Buffer.from(b).toString('base64') })),
      fc.jsonValue({ maxDepth: 4 }).map((v) => ({ text: JSON.stringify(v) })),
    );
    const message = fc
      .tuple(payload, fc.constantFrom(...TOPICS[family].topics))
      .map(([p, topic]): Message => ({ topic, ...p }));
    return REGRESSIONS.check(
      `mqtt ${family}`,
      fc.array(message, { minLength: 1, maxLength: 3 }),
      readerProperty(family),
      {
        runs: RUNS,
        properties: families.length,
      },
    );
  });
}

for (const [file, record] of REGRESSIONS.records<Message[]>()) {
  test(`regression ${file}`, { todo: record.todo }, () => {
    const family = record.property.replace(/^mqtt /, '');
    assert.ok(families.includes(family), `no property named "${record.property}"`);
    readerProperty(family)(record.input);
  });
}
