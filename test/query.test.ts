import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build, buildMode, MODES } from './helpers.js';

const M = 60_000;
const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

for (const mode of MODES)
  test(`windows and aggregations match hand-computed values (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    // 00:00, 00:20, 00:40 → 1, 2, 6; 01:10 → 10; 03:00 → -4 (02:00 is empty)
    await w.ingest([
      { series: 'p', value: 2, ts: T0 + 20 * M },
      { series: 'p', value: 1, ts: T0 },
      { series: 'p', value: 6, ts: T0 + 40 * M },
      { series: 'p', value: 10, ts: T0 + 70 * M },
      { series: 'p', value: -4, ts: T0 + 3 * H },
    ]);
    const check = async (agg: string, expected: [string, number][], extra = '') => {
      const r = await w.request(`/api/v1/query?series=p&start=${T0}&end=${T0 + 3 * H}&window=1h&agg=${agg}${extra}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(
        r.body.results[0].points.map((p: { time: string; value: number }) => [p.time.slice(11, 16), p.value]),
        expected,
        `agg=${agg}${extra}`,
      );
    };
    await check('min', [
      ['00:00', 1],
      ['01:00', 10],
      ['03:00', -4],
    ]);
    await check('max', [
      ['00:00', 6],
      ['01:00', 10],
      ['03:00', -4],
    ]);
    await check('avg', [
      ['00:00', 3],
      ['01:00', 10],
      ['03:00', -4],
    ]);
    await check('sum', [
      ['00:00', 9],
      ['01:00', 10],
      ['03:00', -4],
    ]);
    await check('count', [
      ['00:00', 3],
      ['01:00', 1],
      ['03:00', 1],
    ]);
    await check('first', [
      ['00:00', 1],
      ['01:00', 10],
      ['03:00', -4],
    ]);
    await check('last', [
      ['00:00', 6],
      ['01:00', 10],
      ['03:00', -4],
    ]);
    await check(
      'sum',
      [
        ['00:00', 9],
        ['01:00', 10],
        ['02:00', null as unknown as number],
        ['03:00', -4],
      ],
      '&fill=null',
    );
    await check(
      'sum',
      [
        ['00:00', 9],
        ['01:00', 10],
        ['02:00', 0],
        ['03:00', -4],
      ],
      '&fill=0',
    );
    await check(
      'sum',
      [
        ['00:00', 9],
        ['01:00', 10],
        ['02:00', 10],
        ['03:00', -4],
      ],
      '&fill=previous',
    );
    // the range is inclusive at both ends, and buckets stay epoch-aligned when start is not
    const r = await w.request(`/api/v1/query?series=p&start=${T0 + 20 * M}&end=${T0 + 70 * M}&window=30m&agg=sum`);
    assert.deepEqual(r.body.results[0].points, [
      { time: '2024-01-01T00:00:00.000Z', value: 2 },
      { time: '2024-01-01T00:30:00.000Z', value: 6 },
      { time: '2024-01-01T01:00:00.000Z', value: 10 },
    ]);
  });

for (const mode of MODES)
  test(`several series come back in the order asked, an unknown one empty (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await w.ingest([
      { series: 'a', value: 1, ts: T0 },
      { series: 'b', value: 2, ts: T0 },
    ]);
    const r = await w.request(`/api/v1/query?series=b,nope,a&start=${T0}&end=${T0}&window=5m&agg=max`);
    assert.deepEqual(r.body.results, [
      { series: 'b', unit: null, points: [{ time: '2024-01-01T00:00:00.000Z', value: 2 }] },
      { series: 'nope', unit: null, points: [] },
      { series: 'a', unit: null, points: [{ time: '2024-01-01T00:00:00.000Z', value: 1 }] },
    ]);
  });

// the day before, the day and the day after, at local midnight with the offset then in force
for (const [name, day, hours, localMidnights] of [
  [
    'spring forward',
    '2024-03-31',
    23,
    ['2024-03-30T00:00:00.000+00:00', '2024-03-31T00:00:00.000+00:00', '2024-04-01T00:00:00.000+01:00'],
  ],
  [
    'fall back',
    '2024-10-27',
    25,
    ['2024-10-26T00:00:00.000+01:00', '2024-10-27T00:00:00.000+01:00', '2024-10-28T00:00:00.000+00:00'],
  ],
  [
    'an ordinary day',
    '2024-06-01',
    24,
    ['2024-05-31T00:00:00.000+01:00', '2024-06-01T00:00:00.000+01:00', '2024-06-02T00:00:00.000+01:00'],
  ],
] as const) {
  for (const mode of MODES)
    test(`a London day at the ${name} has ${hours} hourly buckets and one daily bucket (${mode})`, async (t) => {
      const w = await buildMode(t, mode);
      if (!w) return;
      const localMidnight =
        name === 'spring forward' ? Date.parse(`${day}T00:00:00Z`) : Date.parse(`${day}T00:00:00+01:00`);
      const nextMidnight = localMidnight + hours * H;
      // one reading per hour across the day and one hour either side
      const lines = [];
      for (let ts = localMidnight - H; ts <= nextMidnight; ts += H) lines.push({ series: 'uk', value: 1, ts });
      await w.ingest(lines);
      const hourly = await w.request(
        `/api/v1/query?series=uk&start=${localMidnight}&end=${nextMidnight - 1}&window=1h&agg=sum&fill=0&tz=Europe/London`,
      );
      assert.equal(hourly.body.results[0].points.length, hours);
      const daily = await w.request(
        `/api/v1/query?series=uk&start=${localMidnight - H}&end=${nextMidnight}&window=1d&agg=sum&tz=Europe/London`,
      );
      const points = daily.body.results[0].points;
      assert.equal(points.length, 3);
      assert.equal(points[1].value, hours);
      assert.equal(Date.parse(points[1].time), localMidnight);
      assert.equal(Date.parse(points[2].time), nextMidnight);
      // times come back as local time with the offset in force then, +00:00 in winter (never a Z)
      assert.deepEqual(
        points.map((p: { time: string }) => p.time),
        localMidnights,
      );
      // in UTC the same hours make one 24-hour day, its time in UTC with a Z
      const utc = await w.request(
        `/api/v1/query?series=uk&start=${Date.parse(`${day}T00:00:00Z`)}&end=${Date.parse(`${day}T23:59:59.999Z`)}&window=1d&agg=sum&tz=UTC`,
      );
      assert.deepEqual(utc.body.results[0].points, [{ time: `${day}T00:00:00.000Z`, value: 24 }]);
    });
}

// Zones whose days start on the hour (London, across its autumn change), on a quarter hour (Kathmandu,
// +05:45) and whose change moves by half an hour (Lord Howe, 2024-10-06 02:00 → 02:30)
for (const [zone, firstDay] of [
  ['Europe/London', '2024-10-26'],
  ['Asia/Kathmandu', '2024-10-26'],
  ['Australia/Lord_Howe', '2024-10-05'],
] as const)
  for (const mode of MODES)
    test(`every aggregation of ${zone} days agrees with the readings each local day holds (${mode})`, async (t) => {
      const w = await buildMode(t, mode);
      if (!w) return;
      const localDate = (ms: number) => new Date(ms).toLocaleDateString('en-CA', { timeZone: zone });
      // a reading every 7 minutes (so some fall on local midnights, some in a repeated hour) for 3 days
      const start = Date.parse(`${firstDay}T00:00:00Z`) - 86_400_000;
      const lines = [];
      for (let i = 0, ts = start; ts < start + 4 * 86_400_000; i++, ts += 7 * 60_000)
        lines.push({ series: 'zoned', value: ((i * 37) % 101) - 20, ts });
      await w.ingest(lines);
      const byDay = new Map<string, number[]>();
      const queryStart = start + 12 * 3_600_000;
      const queryEnd = start + 3 * 86_400_000;
      const inRange = lines.filter((l) => l.ts >= queryStart && l.ts <= queryEnd);
      for (const l of inRange) byDay.set(localDate(l.ts), [...(byDay.get(localDate(l.ts)) ?? []), l.value]);
      const expected: Record<string, (values: number[]) => number> = {
        min: (v) => Math.min(...v),
        max: (v) => Math.max(...v),
        sum: (v) => v.reduce((a, b) => a + b, 0),
        count: (v) => v.length,
        avg: (v) => v.reduce((a, b) => a + b, 0) / v.length,
        first: (v) => v[0],
        last: (v) => v.at(-1)!,
      };
      for (const [agg, of] of Object.entries(expected)) {
        const res = await w.request(
          `/api/v1/query?series=zoned&start=${queryStart}&end=${queryEnd}&window=1d&agg=${agg}&tz=${zone}`,
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const got = res.body.results[0].points.map((p: { time: string; value: number }) => [
          localDate(Date.parse(p.time)),
          p.value,
        ]);
        assert.deepEqual(
          got.map(([day]: [string]) => day),
          [...byDay.keys()],
          `${agg}: one bucket per local day`,
        );
        for (const [day, value] of got) {
          const want = of(byDay.get(day)!);
          assert.ok(Math.abs(value - want) < 1e-9, `${zone} ${day} ${agg}: ${value}, expected ${want}`);
        }
      }
    });

for (const mode of MODES)
  test(`bad parameters get a 400 naming the parameter (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    const check = async (query: string, field: string) => {
      const r = await w.request(`/api/v1/query?${query}`);
      assert.equal(r.status, 400, query);
      assert.equal(r.body.field, field, query);
      assert.match(r.body.error, new RegExp(field), query);
    };
    // epoch numbers are read by their number of digits (13: milliseconds); 0 is the same in every unit
    const end = `end=${T0}`;
    await check(`start=0&${end}`, 'series');
    await check(`series=a%20b&start=0&${end}`, 'series');
    await check(`series=a&${end}`, 'start');
    await check(`series=a&start=noon&${end}`, 'start');
    await check('series=a&start=0&end=2024-13-45', 'end');
    await check(`series=a&start=${T0 + 1}&${end}`, 'start');
    await check(`series=a&start=0&${end}&window=2m`, 'window');
    await check(`series=a&start=0&${end}&window=1h&agg=median`, 'agg');
    await check(`series=a&start=0&${end}&window=1d&tz=Mars/Olympus`, 'tz');
    await check(`series=a&start=0&${end}&window=1h&fill=linear`, 'fill');
    await check(`series=a&start=0&${end}&fill=null`, 'fill');
    // agg only means something over a window: without one the raw points come back, so it is refused
    await check(`series=a&start=0&${end}&agg=max`, 'agg');
    await check(`series=a&start=0&${end}&precision=h`, 'precision');
    await check(`series=a&start=0&end=${Date.UTC(2100, 0, 1)}&window=1m&fill=null`, 'window');
  });

for (const mode of MODES)
  test(`a cached answer is never served after new data landed in its range (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await w.ingest([{ series: 'c', value: 1, ts: T0 }]);
    const q = `/api/v1/query?series=c&start=${T0}&end=${T0 + H}&window=1h&agg=count`;
    assert.equal((await w.request(q)).body.results[0].points[0].value, 1);
    assert.equal((await w.request(q)).body.results[0].points[0].value, 1);
    const hitsBefore = Number(/query_cache_hits_total (\d+)/.exec((await w.request('/metrics')).body)![1]);
    assert.ok(hitsBefore >= 1, 'the repeat was a cache hit');
    await w.ingest([{ series: 'c', value: 1, ts: T0 + H }]); // at the inclusive end
    assert.equal((await w.request(q)).body.results[0].points.length, 2);
    // data outside the range leaves the cached answer in place
    await w.ingest([{ series: 'c', value: 1, ts: T0 + 5 * H }]);
    await w.request(q);
    const hitsAfter = Number(/query_cache_hits_total (\d+)/.exec((await w.request('/metrics')).body)![1]);
    assert.equal(hitsAfter, hitsBefore + 1);
  });

for (const mode of MODES)
  test(`the catalog lists each series with its first and last time and count, and latest gives the last value (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await w.ingest([
      { series: 'sensor/dev-1/power', value: 5, ts: T0 + H },
      { series: 'sensor/dev-1/power', value: 4, ts: T0 },
      { series: 'sensor/dev-1/power', value: 7, ts: T0 + 2 * H },
    ]);
    const catalog = await w.request('/api/v1/series');
    assert.deepEqual(catalog.body.series, [
      {
        key: 'sensor/dev-1/power',
        unit: null,
        kind: 'gauge',
        description: null,
        interval_s: null,
        firstTime: '2024-01-01T00:00:00.000Z',
        lastTime: '2024-01-01T02:00:00.000Z',
        count: 3,
        tags: null,
      },
    ]);
    const latest = await w.request('/api/v1/series/sensor/dev-1/power/latest');
    assert.deepEqual(latest.body, { series: 'sensor/dev-1/power', time: '2024-01-01T02:00:00.000Z', value: 7 });
    // a late reading does not become "latest"
    await w.ingest([{ series: 'sensor/dev-1/power', value: 99, ts: T0 - H }]);
    assert.equal((await w.request('/api/v1/series/sensor%2Fdev-1%2Fpower/latest')).body.value, 7);
    const missing = await w.request('/api/v1/series/nothing/latest');
    assert.equal(missing.status, 404);
  });

test('reads are open by default and need a key when WATTLINE_REQUIRE_READ_KEY is on', async (t) => {
  const open = await build(t);
  assert.equal((await open.request('/api/v1/series', { headers: { authorization: '' } })).status, 200);
  const closed = await build(t, { requireReadKey: true });
  assert.equal((await closed.request('/api/v1/series', { headers: { authorization: '' } })).status, 401);
  assert.equal((await closed.request('/api/v1/series')).status, 200);
});

for (const mode of MODES)
  test(`a series described by a source shows its unit and kind in the catalog, before and after it has readings (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await w.ingest([{ series: 'grid/price', value: 21.5, ts: T0 }]);
    await w.app.readings.describe([
      { key: 'grid/price', unit: 'p/kWh', kind: 'gauge' },
      { key: 'meter/energy', unit: 'kWh', kind: 'counter' },
    ]);
    await w.ingest([{ series: 'meter/energy', value: 5, ts: T0 }]);
    const catalog = await w.request('/api/v1/series');
    assert.deepEqual(
      catalog.body.series.map((s: { key: string; unit: string; kind: string; count: number }) => [
        s.key,
        s.unit,
        s.kind,
        s.count,
      ]),
      [
        ['grid/price', 'p/kWh', 'gauge', 1],
        ['meter/energy', 'kWh', 'counter', 1],
      ],
    );
  });

for (const mode of MODES)
  test(`a query whose buckets, filled ones included, exceed query.maxPoints gets a 400 naming the limit (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    // the issue's query: two years of 1-minute buckets of a series that need not exist, all filled
    const r = await w.request('/api/v1/query?series=oom1&start=2022-03-09&end=2024-01-31&window=1m&fill=null');
    assert.equal(r.status, 400, `answered ${r.status} with ${JSON.stringify(r.body).length} bytes`);
    assert.equal(r.body.code, 'too_many_points');
    assert.equal(r.body.field, 'window');
    assert.match(r.body.error, /997921 1m buckets/);
    assert.match(r.body.error, /query\.maxPoints \(100000\)/);
    // the limit counts every series asked for, and is a setting
    const small = await buildMode(t, mode, { 'query.maxPoints': 100 });
    if (!small) return;
    const day = `start=${T0}&end=${T0 + 24 * H - 1}&window=1h&fill=0`;
    assert.equal((await small.request(`/api/v1/query?series=a,b,c,d&${day}`)).status, 200);
    const five = await small.request(`/api/v1/query?series=a,b,c,d,e&${day}`);
    assert.equal(five.status, 400);
    assert.match(five.body.error, /120 1h buckets across 5 series/);
  });

for (const mode of MODES)
  test(`a sum too large for a double is a 422 naming the series and the bucket, never a null (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await w.ingest([
      { series: 'huge', value: 1.7e308, ts: T0 },
      { series: 'huge', value: 1.7e308, ts: T0 + 20 * M },
      { series: 'huge', value: -1.7e308, ts: T0 + 2 * H },
      { series: 'huge', value: -1.7e308, ts: T0 + 2 * H + M },
      { series: 'small', value: 1, ts: T0 },
    ]);
    const q = (agg: string, series = 'small,huge') =>
      w.request(`/api/v1/query?series=${series}&start=${T0}&end=${T0 + 3 * H}&window=1h&agg=${agg}&fill=null`);
    const sum = await q('sum');
    assert.equal(sum.status, 422, JSON.stringify(sum.body));
    assert.equal(sum.body.code, 'value_overflow');
    assert.equal(sum.body.field, 'series');
    assert.match(sum.body.error, /sum of series "huge" in the 1h bucket at 2024-01-01T00:00:00\.000Z/);
    // the others still answer, and -1.7e308 twice overflows the other way
    assert.deepEqual(
      (await q('max')).body.results[1].points.map((p: { value: number | null }) => p.value),
      [1.7e308, null, -1.7e308, null],
    );
    const fromTwo = await w.request(
      `/api/v1/query?series=huge&start=${T0 + 2 * H}&end=${T0 + 3 * H}&window=1h&agg=sum`,
    );
    assert.equal(fromTwo.status, 422);
    assert.match(fromTwo.body.error, /at 2024-01-01T02:00:00\.000Z/);
    assert.equal((await q('sum', 'small')).body.results[0].points[0].value, 1);
  });

for (const mode of MODES)
  test(`the catalog comes in pages: limit, an opaque next cursor and a key prefix (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await w.app.readings.describe(
      ['a/1', 'a/2', 'a/3', 'b/1', 'b/2'].map((key) => ({ key, unit: null, kind: 'gauge' as const })),
    );
    const pages = async (query: string) => {
      const out: string[][] = [];
      let next: string | null = null;
      do {
        const r: { status: number; body: { series: { key: string }[]; next: string | null } } = await w.request(
          `/api/v1/series?${query}${next ? `&cursor=${encodeURIComponent(next)}` : ''}`,
        );
        assert.equal(r.status, 200, JSON.stringify(r.body));
        out.push(r.body.series.map((s: { key: string }) => s.key));
        next = r.body.next;
      } while (next && out.length < 10);
      return out;
    };
    assert.deepEqual(await pages('limit=2'), [['a/1', 'a/2'], ['a/3', 'b/1'], ['b/2']]);
    assert.deepEqual(await pages('limit=2&prefix=a/'), [['a/1', 'a/2'], ['a/3']]);
    assert.deepEqual(await pages('prefix=b'), [['b/1', 'b/2']]);
    assert.deepEqual(await pages('prefix=c'), [[]]);
    const bad = async (query: string, field: string) => {
      const r = await w.request(`/api/v1/series?${query}`);
      assert.equal(r.status, 400, query);
      assert.equal(r.body.field, field, query);
      assert.match(r.body.error, new RegExp(field), query);
    };
    await bad('limit=0', 'limit');
    await bad('limit=10001', 'limit');
    await bad('limit=ten', 'limit');
    await bad('cursor=not-a-cursor', 'cursor');
  });

for (const mode of MODES)
  test(`the catalog answers 1000 series a page unless asked for more (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    const keys = Array.from({ length: 1001 }, (_, i) => `s/${String(i).padStart(4, '0')}`);
    await w.app.readings.describe(keys.map((key) => ({ key, unit: null, kind: 'gauge' as const })));
    const first = await w.request('/api/v1/series');
    assert.equal(first.body.series.length, 1000);
    assert.equal(first.body.series[999].key, 's/0999');
    const rest = await w.request(`/api/v1/series?cursor=${encodeURIComponent(first.body.next)}`);
    assert.deepEqual(
      rest.body.series.map((s: { key: string }) => s.key),
      ['s/1000'],
    );
    assert.equal(rest.body.next, null);
    assert.equal((await w.request('/api/v1/series?limit=10000')).body.series.length, 1001);
  });

for (const mode of MODES)
  test(`start and end are read in precision=s|ms|us|ns, or by their number of digits without it (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await w.ingest([{ series: 'ep', value: 3, ts: T0 }]);
    const values = async (query: string) => {
      const r = await w.request(`/api/v1/query?series=ep&${query}`);
      assert.equal(r.status, 200, `${query}: ${JSON.stringify(r.body)}`);
      return r.body.results[0].points.map((p: { value: number }) => p.value);
    };
    const s = T0 / 1000;
    // 10 digits: seconds, so 2024-01-01 and not 20 days after 1970
    assert.deepEqual(await values(`start=${s}&end=${s + 60}`), [3]);
    assert.deepEqual(await values(`start=${s * 1e6}&end=${s * 1e6 + 1}`), [3], 'microseconds by their 16 digits');
    assert.deepEqual(await values(`start=${s}&end=${s}&precision=s`), [3]);
    assert.deepEqual(await values(`start=${T0}&end=${T0}&precision=ms`), [3]);
    assert.deepEqual(await values(`start=${s}000000&end=${s}000000&precision=us`), [3]);
    assert.deepEqual(await values(`start=${s}000000000&end=${s}000000000&precision=ns`), [3]);
    // with a precision any number of digits is an instant: 10 ms after 1970 holds nothing here
    assert.deepEqual(await values('start=0&end=10&precision=ms'), []);
    const small = await w.request('/api/v1/query?series=ep&start=0&end=10');
    assert.equal(small.status, 400);
    assert.equal(small.body.field, 'end');
    assert.match(small.body.error, /end "10" has 2 digits/);
  });

for (const mode of MODES)
  test(`a series that does not exist answers with a warning naming the closest known key (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await w.ingest([
      { series: 'home/meter/power', value: 5, ts: T0 },
      { series: 'home/meter/energy', value: 1, ts: T0 },
      { series: 'garage/charger/power', value: 2, ts: T0 },
    ]);
    const r = await w.request(
      `/api/v1/query?series=home/meter/powr,home/meter/power,Home/Meter/Power,hme/meter/energy,zzz&start=${T0}&end=${T0}`,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.results.map((x: { series: string; points: unknown[] }) => [x.series, x.points.length]),
      [
        ['home/meter/powr', 0],
        ['home/meter/power', 1],
        ['Home/Meter/Power', 0],
        ['hme/meter/energy', 0],
        ['zzz', 0],
      ],
    );
    assert.deepEqual(r.body.warnings, [
      { series: 'home/meter/powr', warning: 'unknown series', closest: 'home/meter/power' },
      { series: 'Home/Meter/Power', warning: 'unknown series', closest: 'home/meter/power' },
      { series: 'hme/meter/energy', warning: 'unknown series', closest: 'home/meter/energy' },
      { series: 'zzz', warning: 'unknown series', closest: null },
    ]);
    // asked again (a cached answer), the warning is still there; a query of known series has none
    for (let i = 0; i < 2; i++)
      assert.deepEqual((await w.request(`/api/v1/query?series=home/meter/powr&start=${T0}&end=${T0}`)).body.warnings, [
        { series: 'home/meter/powr', warning: 'unknown series', closest: 'home/meter/power' },
      ]);
    assert.deepEqual(
      (await w.request(`/api/v1/query?series=home/meter/power&start=${T0}&end=${T0}`)).body.warnings,
      [],
    );
  });

for (const mode of MODES)
  test(`query.maxPoints counts only the buckets between a series' first and last reading, unless filled (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    // a week of data; a century of 1h buckets is 876,600, far over query.maxPoints (100000)
    await w.ingest([
      { series: 'week', value: 1, ts: T0 },
      { series: 'week', value: 2, ts: T0 + 7 * 24 * H - 1 },
    ]);
    const century = 'start=2000-01-01&end=2100-01-01&window=1h&agg=sum';
    const r = await w.request(`/api/v1/query?series=week,nothing&${century}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.results[0].points.map((p: { value: number }) => p.value),
      [1, 2],
    );
    // filled, every bucket of the century is in the answer: refused before anything is read
    const filled = await w.request(`/api/v1/query?series=week&${century}&fill=null`);
    assert.equal(filled.status, 400);
    assert.equal(filled.body.code, 'too_many_points');
  });
