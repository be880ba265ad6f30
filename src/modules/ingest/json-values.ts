/** One value found in a JSON body: its text, and where it was (an array's item, or the line it starts on). */
export interface JsonValue {
  text: string;
  at: 'line' | 'item';
  /** 1-based item number within the body's arrays, or line number. */
  n: number;
  /** Longer than the limit: its text was dropped while scanning (not kept in memory). */
  tooLong: boolean;
}

enum Mode {
  /** Between top-level values. */
  Top,
  /** In a top-level `{…}`, until its closing brace. */
  Object,
  /** In a top-level value that is neither an object nor an array: it runs to the end of its line. */
  Line,
  /** In a top-level array, before an item. */
  ArrayGap,
  /** In an item of a top-level array, until the `,` or `]` after it. */
  Item,
}

const NL = 10;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const isSpace = (c: number) => c === 32 || c === NL || c === 13 || c === 9;

/**
 * Splits an `application/json` body into the values to parse, as it streams in: the items of a
 * top-level array (`[{…},{…}]`), or top-level objects (one object, pretty-printed or not, or
 * NDJSON). It only tracks strings, escapes and bracket depth, so that `JSON.parse` sees one reading
 * at a time and the body is never held whole; a value longer than `maxBytes` is skipped, not kept.
 * (NDJSON bodies do not come here: splitting at newlines is faster.)
 */
export class JsonValues {
  private mode = Mode.Top;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private pending = '';
  private skipping = false;
  private line = 1;
  private item = 0;
  private valueLine = 1;
  private readonly out: JsonValue = { text: '', at: 'line', n: 0, tooLong: false };

  constructor(private readonly isTooLong: (text: string) => boolean) {}

  /** The values that end in `text` (the object yielded is reused: read it before the next). */
  *feed(text: string): Generator<JsonValue> {
    let start = 0; // where the current value starts in `text`
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === NL) this.line++;
      switch (this.mode) {
        case Mode.Top:
          if (isSpace(c)) break;
          start = i;
          this.valueLine = this.line;
          if (c === OPEN_BRACKET) {
            this.mode = Mode.ArrayGap;
          } else if (c === OPEN_BRACE) {
            this.mode = Mode.Object;
            this.depth = 1;
          } else {
            this.mode = Mode.Line;
          }
          break;
        case Mode.Line:
          if (c === NL) {
            yield this.end(text, start, i, 'line', this.valueLine);
            this.mode = Mode.Top;
          }
          break;
        case Mode.Object:
          if (this.scan(c) && this.depth === 0) {
            yield this.end(text, start, i + 1, 'line', this.valueLine);
            this.mode = Mode.Top;
          }
          break;
        case Mode.ArrayGap:
          if (isSpace(c)) break;
          if (c === CLOSE_BRACKET) {
            // `[]`, or a trailing comma: no item
            this.mode = Mode.Top;
            break;
          }
          this.item++;
          start = i;
          this.mode = Mode.Item;
          this.depth = 0;
          if (c === COMMA) {
            yield this.end(text, start, i, 'item', this.item); // an empty item: `[,` or `,,`
            this.mode = Mode.ArrayGap;
          } else {
            this.scan(c);
          }
          break;
        case Mode.Item:
          if (this.depth === 0 && !this.inString && (c === COMMA || c === CLOSE_BRACKET)) {
            yield this.end(text, start, i, 'item', this.item);
            this.mode = c === COMMA ? Mode.ArrayGap : Mode.Top;
          } else {
            this.scan(c);
          }
          break;
      }
    }
    if (this.mode !== Mode.Top && this.mode !== Mode.ArrayGap) this.keep(text, start);
  }

  /** The value the body ends in, if any (an object not closed, a last line without a newline). */
  *finish(): Generator<JsonValue> {
    if (this.mode === Mode.Object || this.mode === Mode.Line) yield this.end('', 0, 0, 'line', this.valueLine);
    else if (this.mode === Mode.Item) yield this.end('', 0, 0, 'item', this.item);
    this.mode = Mode.Top;
  }

  /** Tracks strings and depth in a value; true when `c` was a bracket outside a string. */
  private scan(c: number): boolean {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (c === BACKSLASH) this.escaped = true;
      else if (c === QUOTE) this.inString = false;
      return false;
    }
    if (c === QUOTE) {
      this.inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      this.depth++;
      return true;
    } else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && this.depth > 0) {
      this.depth--;
      return true;
    }
    return false;
  }

  /** The chunk ended inside a value: keep its start for the next chunk, unless it is already too long. */
  private keep(text: string, start: number) {
    if (this.skipping) return;
    this.pending += text.slice(start);
    if (this.isTooLong(this.pending)) {
      this.skipping = true;
      this.pending = '';
    }
  }

  private end(text: string, start: number, end: number, at: JsonValue['at'], n: number): JsonValue {
    const out = this.out;
    out.text = this.skipping ? '' : this.pending + text.slice(start, end);
    out.tooLong = this.skipping;
    out.at = at;
    out.n = n;
    this.pending = '';
    this.skipping = false;
    this.inString = false;
    this.escaped = false;
    this.depth = 0;
    return out;
  }
}
