import { InvalidInput } from '../../core/errors.js';

/**
 * One decoded value: `on`/`off` → boolean; a number (unit suffix W, var, VA, V or rad stripped, comma
 * decimal accepted) → number; a date such as `2016-10-4 16:47:50` → ISO 8601 string in UTC
 * (`2016-10-04T16:47:50Z`); anything else → the trimmed text.
 */
export type SensorLogValue = boolean | number | string;

/**
 * A parsed sensor-log line: each section by its name, as a record when it holds `key=value;` pairs and as
 * a list otherwise. A section with a single value (`hz: 49.87`) is a list of one, so a section's shape
 * never depends on how many values it happened to carry.
 */
export type SensorLogEvent = { [section: string]: Record<string, SensorLogValue> | SensorLogValue[] };

const CODE = 'invalid_log_line';

// A section name: words of letters, digits and `_` separated by single spaces, the first starting with a
// letter (`Device`, `FFT Re`, `WiFi Strength`, `hz`), then `:`. A date's time (`4 16:47:50`) never
// matches, since its words start with digits.
// Later sections start a `;`-separated item: `Name:` anywhere else is a `:` inside a value, an error.
// The first section may follow any text (the ignored preamble) as long as its name does not continue a
// word (`2016-10-04T16:47:50Z Device:` finds `Device`, not `T16`). Being leftmost, a preamble of plain
// words joins the name (`junk Device`): we report that name rather than guess where the preamble ends.
// No space is required after the `:`: `Device:ID=1` must not vanish into the preamble.
// Names are found by `scanSectionName`, one pass over the item: the regex it replaced,
// /(?<![A-Za-z0-9_])([A-Za-z][A-Za-z0-9_]*(?: [A-Za-z0-9_]+)*):/, was retried at every word of a line
// like `a a a … a!` and took time quadratic in its length (issue #11: 200 KB took 23 s).

// NUMBER and DATE are anchored at both ends and nest no quantifiers: one attempt, linear in the value.
// Only these suffixes, attached and case-sensitive, as SEEDS §5 lists them: `1.75A` stays text.
// Exponents are numbers like any other; hex (`0x1F`) is not in the seed's rules and stays text.
const NUMBER = /^([+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][+-]?\d+)?)(?:W|var|VA|V|rad)?$/;
// `2016-10-4 16:47:50`: single-digit month, day and hour allowed, as the devices write them.
const DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2}):(\d{2})$/;

/** Why a line that parsed to `{}` cannot be stored: it has no section. */
export const NO_SECTION =
  'no section found: expected sections like "Device: ID=1; Fw=16071801;" or "Peaks: 7.33;7.31;"';

interface Item {
  text: string;
  /** 1-based column of the item's first non-blank character, for messages. */
  column: number;
}

/**
 * Parses one sensor-log line (SEEDS §5) into its sections, e.g.
 * `Device: ID=1; Fw=16071801; Power: Active=1753W; Peaks: 7.33;7.31; UTC Time: 2016-10-4 16:47:50`
 * → `{ Device: { ID: 1, Fw: 16071801 }, Power: { Active: 1753 }, Peaks: [7.33, 7.31], 'UTC Time': ['2016-10-04T16:47:50Z'] }`.
 * Text before the first section is ignored, so a line without sections (`""`, `Dead=Beef`, `A; B; C;`) is
 * `{}`, as the seed's parser read it; storing refuses that (`NO_SECTION`). A trailing `;` is optional. In a
 * section that starts with a `key=value` pair, later values without `=` are ignored, as the seed did
 * (`Foo: Bar=A;B;C;` → `{ Foo: { Bar: 'A' } }`). Throws `InvalidInput` (`invalid_log_line`) naming the
 * section and 1-based column for an empty section, a `:` outside a date, an empty value or key, a list
 * section holding a pair, a repeated section or key, and an impossible date. A line longer than `maxLineBytes` (UTF-8; no limit by
 * default) is refused unread with `log_line_too_long`.
 */
export function parseSensorLog(
  line: string,
  { maxLineBytes = Infinity }: { maxLineBytes?: number } = {},
): SensorLogEvent {
  // a UTF-16 unit is 1 to 3 UTF-8 bytes (a surrogate pair, 4 for two): measure only when length can't tell
  if (
    line.length > maxLineBytes ||
    (line.length * 3 > maxLineBytes && Buffer.byteLength(line, 'utf8') > maxLineBytes)
  ) {
    throw new InvalidInput(
      'log_line_too_long',
      `line is ${Buffer.byteLength(line, 'utf8')} bytes long; at most ${maxLineBytes} bytes are accepted (sensorlog.maxLineBytes)`,
    );
  }
  const sections: Array<{ name: string; column: number; items: Item[] }> = [];
  for (const item of splitItems(line)) {
    const header = sections.length === 0 ? findFirstHeader(item) : matchHeader(item);
    if (header)
      sections.push({ name: header.name, column: header.column, items: header.rest.text === '' ? [] : [header.rest] });
    else if (sections.length > 0) sections[sections.length - 1]!.items.push(item);
    // else: still in the text before the first section, which is ignored
  }
  const event = new Map<string, Record<string, SensorLogValue> | SensorLogValue[]>();
  for (const section of sections) {
    const where = `section "${section.name}" at column ${section.column}`;
    if (event.has(section.name))
      throw new InvalidInput(CODE, `${where}: repeats an earlier section; each section may appear once`);
    event.set(section.name, decodeSection(section.name, section.column, section.items));
  }
  // fromEntries defines own properties, so even a key named `__proto__` is kept as data
  return Object.fromEntries(event);
}

/** The `;`-separated items of a line, trimmed, with their columns. */
function splitItems(line: string): Item[] {
  const items: Item[] = [];
  let start = 0;
  for (const part of line.split(';')) {
    const lead = part.length - part.trimStart().length;
    items.push({ text: part.trim(), column: start + lead + 1 });
    start += part.length + 1;
  }
  return items;
}

interface Header {
  name: string;
  column: number;
  rest: Item;
}

function matchHeader(item: Item): Header | undefined {
  const found = scanSectionName(item.text, 'at-start');
  return found ? header(item, found.index, found.name) : undefined;
}

function findFirstHeader(item: Item): Header | undefined {
  const found = scanSectionName(item.text, 'anywhere');
  return found ? header(item, found.index, found.name) : undefined;
}

const SPACE = 0x20;
const COLON = 0x3a;
const isLetter = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isWordChar = (c: number) => isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x5f;

/**
 * The leftmost section name in `text` followed by `:` (at index 0 only, for `at-start`), in one pass.
 * A name ends at the first `:` after it starts, so of all the names that could start before a `:`, the
 * leftmost is the one that began earliest and has not been broken since (by a character outside names,
 * two spaces, or a space before the `:`); whatever breaks it breaks every later start too.
 * Exported for the test that compares it with the regex it replaced.
 */
export function scanSectionName(
  text: string,
  where: 'at-start' | 'anywhere',
): { index: number; name: string } | undefined {
  let start = -1; // where the name being read began; -1 while none is
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const previous = i === 0 ? -1 : text.charCodeAt(i - 1);
    if (isWordChar(c)) {
      // a name starts with a letter that does not continue a word (`T16` in `…04T16:47` never does)
      if (start < 0 && isLetter(c) && !isWordChar(previous)) start = i;
    } else if (start >= 0 && c === SPACE && previous !== SPACE) {
      // a single space between two words of the name
    } else if (start >= 0 && c === COLON && previous !== SPACE) {
      return { index: start, name: text.slice(start, i) };
    } else {
      start = -1;
    }
    if (where === 'at-start' && start < 0) return undefined;
  }
  return undefined;
}

function header(item: Item, index: number, name: string): Header {
  const after = item.text.slice(index + name.length + 1);
  const lead = after.length - after.trimStart().length;
  return {
    name,
    column: item.column + index,
    rest: { text: after.trim(), column: item.column + index + name.length + 1 + lead },
  };
}

function decodeSection(name: string, column: number, items: Item[]): Record<string, SensorLogValue> | SensorLogValue[] {
  // a `;` just before the next section or the end of the line closes the section: drop that one empty item
  const values = items.length > 0 && items[items.length - 1]!.text === '' ? items.slice(0, -1) : items;
  if (values.length === 0) {
    throw new InvalidInput(
      CODE,
      `section "${name}" at column ${column} is empty: expected key=value pairs or a ;-separated list`,
    );
  }
  const at = (item: Item) => `section "${name}" at column ${item.column}`;
  for (const item of values) {
    if (item.text === '') throw new InvalidInput(CODE, `${at(item)}: empty value between ";"`);
  }
  // the first value sets the section's shape
  if (!values[0]!.text.includes('=')) {
    const pair = values.find((item) => item.text.includes('='));
    if (pair) {
      const odd = values[0]!;
      throw new InvalidInput(CODE, `${at(odd)}: mixes key=value pairs and list values (got "${odd.text}")`);
    }
    return values.map((item) => decodeValue(item.text, at(item)));
  }
  const record = new Map<string, SensorLogValue>();
  for (const item of values) {
    if (!item.text.includes('=')) {
      // the seed's parser skipped these (`Foo: Bar=A;B;C;`); a `:` in one is still an error
      decodeValue(item.text, at(item));
      continue;
    }
    const eq = item.text.indexOf('=');
    const key = item.text.slice(0, eq).trim();
    const raw = item.text.slice(eq + 1).trim();
    if (key === '') throw new InvalidInput(CODE, `${at(item)}: key=value pair without a key (got "${item.text}")`);
    if (key.includes(':')) throw new InvalidInput(CODE, `${at(item)}: ":" inside a key (got "${key}")`);
    if (raw === '') throw new InvalidInput(CODE, `${at(item)}: "${key}" has no value`);
    if (record.has(key))
      throw new InvalidInput(CODE, `${at(item)}: "${key}" repeats an earlier key; each key may appear once`);
    record.set(key, decodeValue(raw, at(item)));
  }
  return Object.fromEntries(record);
}

/** `where` names the section and column for errors. */
function decodeValue(text: string, where: string): SensorLogValue {
  // the file writes `OFF`; the seed says on/off, so case is not significant
  const lower = text.toLowerCase();
  if (lower === 'on') return true;
  if (lower === 'off') return false;
  const number = NUMBER.exec(text);
  if (number) {
    const value = Number(number[1]!.replace(',', '.'));
    // beyond a 64-bit float (`1e400`) it would be Infinity, stored as null: kept as the text it was
    if (Number.isFinite(value)) return value;
  }
  const date = DATE.exec(text);
  if (date) return decodeDate(date, text, where);
  if (text.includes(':')) {
    throw new InvalidInput(
      CODE,
      `${where}: ":" inside a value (got "${text}"); only dates like 2016-10-4 16:47:50 may contain ":", and sections start after ";"`,
    );
  }
  return text;
}

// The devices send no offset and label the field `UTC Time`, so every date is read as UTC.
function decodeDate(parts: RegExpExecArray, text: string, where: string): string {
  const [year, month, day, hour, minute, second] = parts.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  // Date.UTC rolls 2016-2-30 over into March; a round trip catches that and hour 24 or second 60
  const exact =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  if (!exact)
    throw new InvalidInput(CODE, `${where}: not a valid date (got "${text}"); expected YYYY-M-D H:MM:SS in UTC`);
  // whole seconds in, whole seconds out: no `.000`
  return date.toISOString().replace('.000Z', 'Z');
}
