import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { InvalidInput } from '../../core/errors.js';
import { parseSensorLog, type SensorLogEvent, scanSectionName } from './parser.js';

const EVENTS = fs
  .readFileSync(new URL('./testcases/events.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line !== '');

/** `expected` is the error message, or the event the line becomes. */
function check(input: string, expected: string | SensorLogEvent) {
  if (typeof expected === 'string') {
    assert.throws(
      () => parseSensorLog(input),
      (err: unknown) =>
        err instanceof InvalidInput &&
        err.code === 'invalid_log_line' &&
        err.status === 400 &&
        err.message === expected,
      `${JSON.stringify(input)} → ${expected}`,
    );
  } else {
    assert.deepEqual(parseSensorLog(input), expected, JSON.stringify(input));
  }
}

test('sections become records of key=value pairs or lists, with or without a trailing ";"', () => {
  check('Device: ID=1; Fw=16071801; Evt=2;', { Device: { ID: 1, Fw: 16071801, Evt: 2 } });
  check('Device: ID=1; Fw=16071801; Evt=2', { Device: { ID: 1, Fw: 16071801, Evt: 2 } });
  check('Peaks: 7.33;7.31;7.53;', { Peaks: [7.33, 7.31, 7.53] });
  check('Peaks: 7.33;7.31;7.53', { Peaks: [7.33, 7.31, 7.53] });
  check('FFT Re: 9748;46;-455; FFT Img: 2712;6;-792', { 'FFT Re': [9748, 46, -455], 'FFT Img': [2712, 6, -792] });
  // a single value is a list of one, so a section's shape never depends on its count
  check('hz: 49.87; WiFi Strength: -62; Dummy: 20', { hz: [49.87], 'WiFi Strength': [-62], Dummy: [20] });
  // spaces around items, keys and values do not matter
  check('  Device:ID=1 ;  Fw = 7 ;Line:  Voltage=230.08V  ', { Device: { ID: 1, Fw: 7 }, Line: { Voltage: 230.08 } });
  check('Meta: a=b=c', { Meta: { a: 'b=c' } });
  // no space is needed after a section's ":"
  check('Device:ID=1;Peaks:1;2;hz:50', { Device: { ID: 1 }, Peaks: [1, 2], hz: [50] });
});

test('values decode as on/off, numbers without their unit, dates in UTC, or text', () => {
  check('Alarms: CoilRevesed=OFF; Other=on; Third=Off', { Alarms: { CoilRevesed: false, Other: true, Third: false } });
  check('Power: Active=1753W; Reactive=279var; Appearent=403VA', {
    Power: { Active: 1753, Reactive: 279, Appearent: 403 },
  });
  check('Line: Voltage=230.08V; Phase=-43,841rad; Current=7.35900021', {
    Line: { Voltage: 230.08, Phase: -43.841, Current: 7.35900021 },
  });
  // comma decimals, signs, exponents and bare fractions
  check('N: 1,5; -0,25W; +3; .5; 1e3; 2,5E-1V', { N: [1.5, -0.25, 3, 0.5, 1000, 0.25] });
  // only the seed's suffixes, attached and case-sensitive: anything else stays text
  check('U: 1.75A; 5 W; 5w; 5VAR; 5kW; 0x1F; 12ab', { U: ['1.75A', '5 W', '5w', '5VAR', '5kW', '0x1F', '12ab'] });
  check('UTC Time: 2016-10-4 16:47:50', { 'UTC Time': ['2016-10-04T16:47:50Z'] });
  check('UTC Time: 2016-1-02 3:04:05; 2024-02-29T23:59:59', {
    'UTC Time': ['2016-01-02T03:04:05Z', '2024-02-29T23:59:59Z'],
  });
  check('T: At=2024-02-29 23:59:59; Day=2016-10-4', { T: { At: '2024-02-29T23:59:59Z', Day: '2016-10-4' } });
  check('Note: hello world ; café', { Note: ['hello world', 'café'] });
});

test('text before the first section is ignored', () => {
  check('<13> sensor-7 v1.2; Device: ID=1', { Device: { ID: 1 } });
  check('2016-10-04 16:47:50 Device: ID=1', { Device: { ID: 1 } });
  check('garbage=1; noise; Device: ID=1', { Device: { ID: 1 } });
  check('2016-10-04T16:47:50Z Device: ID=1', { Device: { ID: 1 } });
  check('Oct  4 16:47:50 host app[12]: Device: ID=1', { Device: { ID: 1 } });
  check('x-Device: ID=1', { Device: { ID: 1 } });
  // a preamble of plain words cannot be told from a two-word name, so it joins the name
  check('junk Device: ID=1', { 'junk Device': { ID: 1 } });
});

test("a line without a section is the empty event, as the seed's parser read it", () => {
  // the seed's own tests (energy-sensors tests_eventparser.py): text before the first section is ignored
  check('', {});
  check('Dead=Beef', {});
  check('A; B; C;', {});
  check('  \t ', {});
  check('just some text', {});
  check('ID=1; Fw=2', {});
});

test("values without '=' after a key=value pair are ignored, as the seed's parser did", () => {
  check('Foo: Bar=A;B;C;', { Foo: { Bar: 'A' } });
  check('Foo: Bar=A; B; Baz=2; Next: 1', { Foo: { Bar: 'A', Baz: 2 }, Next: [1] });
  // ignored, but a ":" in them is still an error
  check(
    'Foo: Bar=A; 7:30',
    'section "Foo" at column 13: ":" inside a value (got "7:30"); only dates like 2016-10-4 16:47:50 may contain ":", and sections start after ";"',
  );
});

test('malformed lines are refused with the section and column', () => {
  check('Foo:', 'section "Foo" at column 1 is empty: expected key=value pairs or a ;-separated list');
  check(
    'Device: ID=1; Foo:; Bar: 2',
    'section "Foo" at column 15 is empty: expected key=value pairs or a ;-separated list',
  );
  check(
    'Device: ID=1; Foo: ;  ; Bar: 2',
    'section "Foo" at column 15 is empty: expected key=value pairs or a ;-separated list',
  );
  check(
    'Device: ID=1; Fw=7:30',
    'section "Device" at column 15: ":" inside a value (got "7:30"); only dates like 2016-10-4 16:47:50 may contain ":", and sections start after ";"',
  );
  check(
    'Peaks: 1; 2:3',
    'section "Peaks" at column 11: ":" inside a value (got "2:3"); only dates like 2016-10-4 16:47:50 may contain ":", and sections start after ";"',
  );
  // a section must follow a ";": otherwise its header is a value with a ":"
  check(
    'Device: ID=1 Alarms: X=on',
    'section "Device" at column 9: ":" inside a value (got "1 Alarms: X=on"); only dates like 2016-10-4 16:47:50 may contain ":", and sections start after ";"',
  );
  check('Device: Alarms: X=on', 'section "Device" at column 9: ":" inside a key (got "Alarms: X")');
  check(
    'Device: Alarms: 1',
    'section "Device" at column 9: ":" inside a value (got "Alarms: 1"); only dates like 2016-10-4 16:47:50 may contain ":", and sections start after ";"',
  );
  check('Device: a:b=1', 'section "Device" at column 9: ":" inside a key (got "a:b")');
  check('Tags: kitchen; a=b', 'section "Tags" at column 7: mixes key=value pairs and list values (got "kitchen")');
  check('Peaks: 1;;2', 'section "Peaks" at column 10: empty value between ";"');
  check('Device: =1', 'section "Device" at column 9: key=value pair without a key (got "=1")');
  check('Device: ID=', 'section "Device" at column 9: "ID" has no value');
  check('Device: ID=1; ID=2', 'section "Device" at column 15: "ID" repeats an earlier key; each key may appear once');
  check('hz: 50; hz: 51', 'section "hz" at column 9: repeats an earlier section; each section may appear once');
  check(
    'UTC Time: 2016-2-30 10:00:00',
    'section "UTC Time" at column 11: not a valid date (got "2016-2-30 10:00:00"); expected YYYY-M-D H:MM:SS in UTC',
  );
  check(
    'T: At=2016-10-4 24:00:00',
    'section "T" at column 4: not a valid date (got "2016-10-4 24:00:00"); expected YYYY-M-D H:MM:SS in UTC',
  );
});

test('a key named like an Object property is kept as data', () => {
  const event = parseSensorLog('Device: __proto__=1; constructor=2');
  assert.deepEqual(Object.entries(event.Device!), [
    ['__proto__', 1],
    ['constructor', 2],
  ]);
});

test('every line of the recorded events parses into the same eleven sections', () => {
  assert.equal(EVENTS.length, 1000);
  const names = [
    'Device',
    'Alarms',
    'Power',
    'Line',
    'Peaks',
    'FFT Re',
    'FFT Img',
    'UTC Time',
    'hz',
    'WiFi Strength',
    'Dummy',
  ];
  EVENTS.forEach((line, index) => {
    const event = parseSensorLog(line);
    assert.deepEqual(Object.keys(event), names, `line ${index + 1}`);
    const power = event.Power as Record<string, unknown>;
    assert.equal(typeof power.Active, 'number', `line ${index + 1}`);
    assert.equal((event.Peaks as unknown[]).length, 10, `line ${index + 1}`);
    assert.ok(
      (event['FFT Re'] as unknown[]).every((v) => Number.isInteger(v)),
      `line ${index + 1}`,
    );
  });
});

test('the first recorded event decodes to its exact values', () => {
  check(EVENTS[0]!, {
    Device: { ID: 1, Fw: 16071801, Evt: 2 },
    Alarms: { CoilRevesed: false },
    Power: { Active: 1753, Reactive: 279, Appearent: 403 },
    Line: { Current: 7.35900021, Voltage: 230.08, Phase: -43.841 },
    Peaks: [
      7.33199978, 7.311999799999999, 7.53000021, 7.48400021, 7.54300022, 7.62900019, 7.36499977, 7.28599977, 7.37200022,
      7.31899977,
    ],
    'FFT Re': [9748, 46, 303, 33, 52, 19, 19, 39, -455],
    'FFT Img': [2712, 6, -792, -59, 1386, -19, 963, 33, 462],
    'UTC Time': ['2016-10-04T16:47:50Z'],
    hz: [49.87],
    'WiFi Strength': [-62],
    Dummy: [20],
  });
});

test('recorded events keep their differing powers and peaks', () => {
  const active = EVENTS.map((line) => (parseSensorLog(line).Power as Record<string, number>).Active!);
  assert.equal(active[1], 1800);
  assert.equal(active[5], 1832);
  assert.equal((parseSensorLog(EVENTS[5]!).Peaks as number[])[0], 14.3940001);
  // the clusters SEEDS §5 expects span roughly 270 W to 3590 W
  assert.ok(Math.min(...active) < 400 && Math.max(...active) > 3400, `${Math.min(...active)}–${Math.max(...active)}`);
});

test('a long run of words is read in one pass: without a ":" it has no section, with one it is a name', () => {
  // issue #11: this line took 23 s when a backtracking regex looked for the first section name
  const words = `a${' a'.repeat(100_000)}`;
  check(`${words}!`, {});
  check(`${words}: 1`, { [words]: [1] });
  check(`Peaks: 1; ${words}!`, { Peaks: [1, `${words}!`] });
  check(`Peaks: 1; ${words}: 2`, { Peaks: [1], [words]: [2] });
});

test('section names are found where the regex the scanner replaced found them', () => {
  // the regexes parser.ts used before issue #11, quadratic on long lines but exact on short ones
  const NAME = '[A-Za-z][A-Za-z0-9_]*(?: [A-Za-z0-9_]+)*';
  const anywhere = new RegExp(`(?<![A-Za-z0-9_])(${NAME}):`);
  const atStart = new RegExp(`^(${NAME}):`);
  const regexFinds = (regex: RegExp, text: string) => {
    const match = regex.exec(text);
    return match ? { index: match.index, name: match[1]! } : undefined;
  };
  // every string of up to 7 characters over an alphabet that exercises each rule
  const alphabet = ['a', 'B', '1', '_', ' ', ':', '-'];
  let texts = [''];
  for (let length = 1; length <= 7; length++) {
    texts = texts.flatMap((text) => (text.length === length - 1 ? alphabet.map((c) => text + c) : []));
    for (const text of texts) {
      assert.deepEqual(scanSectionName(text, 'anywhere'), regexFinds(anywhere, text), JSON.stringify(text));
      assert.deepEqual(scanSectionName(text, 'at-start'), regexFinds(atStart, text), JSON.stringify(text));
    }
  }
});

test('a line longer than maxLineBytes is refused by its UTF-8 length, before it is read', () => {
  const refused = (line: string, maxLineBytes: number, bytes: number) =>
    assert.throws(
      () => parseSensorLog(line, { maxLineBytes }),
      (err: unknown) =>
        err instanceof InvalidInput &&
        err.code === 'log_line_too_long' &&
        err.message ===
          `line is ${bytes} bytes long; at most ${maxLineBytes} bytes are accepted (sensorlog.maxLineBytes)`,
    );
  const longest = Math.max(...EVENTS.map((line) => Buffer.byteLength(line)));
  for (const line of EVENTS) parseSensorLog(line, { maxLineBytes: longest });
  refused(EVENTS[0]!, 100, Buffer.byteLength(EVENTS[0]!));
  // 2 bytes per "é": 40 characters, 46 bytes
  const note = `Note: ${'é'.repeat(20)}`;
  assert.deepEqual(parseSensorLog(note, { maxLineBytes: 46 }), { Note: ['é'.repeat(20)] });
  refused(note, 45, 46);
  // the hostile line is refused unread, with its size
  refused(`a${' a'.repeat(100_000)}!`, 4096, 200_002);
});
