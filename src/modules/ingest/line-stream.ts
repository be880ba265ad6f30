import { type ReadingBatch, ReadingBatchBuilder } from '../../core/readings.js';

/** A bad reading: by line number, or by item number in a JSON array (both from 1). */
export type LineError = { line: number; error: string } | { item: number; error: string };

/** What every line-by-line body parser is given. */
export interface LineStreamOptions {
  batchSize: number;
  maxLineBytes: number;
  maxInvalidReported: number;
  /** Hands a full batch on; resolves when it is durable. */
  publish: (batch: ReadingBatch) => Promise<void>;
  /** Batches handed on but not yet durable before the parser waits (bounds memory per request). */
  maxInFlight?: number;
}

/**
 * The part NDJSON and line protocol share: text split at newlines wherever the chunks end, a
 * byte order mark skipped, lines over `maxLineBytes` refused by number without being held, bad
 * lines counted (the first `maxInvalidReported` kept with their reason), readings gathered into
 * batches of `batchSize` and handed on with at most `maxInFlight` not yet durable. A subclass
 * reads one line (`handleLine`) into `builder`.
 */
export abstract class LineStream {
  accepted = 0;
  invalidCount = 0;
  readonly invalid: LineError[] = [];
  /** The line number, or in a JSON array the item number (`counting`). */
  protected lineNo = 0;
  protected counting: 'line' | 'item' = 'line';
  protected builder: ReadingBatchBuilder;
  private tail = '';
  private skippingLongLine = false;
  private atStart = true;
  private inFlight: Promise<void>[] = [];
  private failure: unknown;

  constructor(private readonly stream: LineStreamOptions) {
    this.builder = new ReadingBatchBuilder(stream.batchSize);
  }

  /** Reads `text[start, end)`: one line without its `\n`. */
  protected abstract handleLine(text: string, start: number, end: number): void;

  /**
   * Whether the last line left readings that did not fit the batch (`pushPending` hands them on).
   * Asked after every line: a plain check, so no line pays for an await it does not need.
   */
  protected hasPending(): boolean {
    return false;
  }

  protected async pushPending(): Promise<void> {}

  /** Feeds decoded text (split anywhere); resolves when the parser may take more. */
  async write(text: string): Promise<void> {
    text = this.withoutByteOrderMark(text);
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      if (this.tail || this.skippingLongLine) {
        this.finishLine(this.tail + text.slice(start, nl));
        this.tail = '';
      } else {
        this.handleLine(text, start, nl);
      }
      if (this.hasPending()) await this.pushPending();
      if (this.builder.full) await this.flushBatch();
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) {
      if (this.skippingLongLine) return;
      this.tail += text.slice(start);
      // measured as a whole line is: without a CR that may be its line end
      const end = this.tail.charCodeAt(this.tail.length - 1) === 13 ? this.tail.length - 1 : this.tail.length;
      if (this.isTooLong(this.tail, 0, end)) {
        this.skippingLongLine = true;
        this.tail = '';
      }
    }
  }

  /** Ends the stream: handles a last line without a newline and waits for every batch. */
  async end(): Promise<void> {
    await this.endWithoutWaiting();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }

  /** Ends the stream and hands on the last batch, without waiting for batches to be durable. */
  async endWithoutWaiting(): Promise<void> {
    if (this.tail || this.skippingLongLine) this.finishLine(this.tail);
    this.tail = '';
    if (this.hasPending()) await this.pushPending();
    await this.flushBatch();
  }

  /** A UTF-8 byte order mark (some Windows tools write one) is not part of line 1. */
  protected withoutByteOrderMark(text: string): string {
    if (!this.atStart || text.length === 0) return text;
    this.atStart = false;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  private finishLine(line: string) {
    if (this.skippingLongLine) {
      this.skippingLongLine = false;
      this.lineNo++;
      this.rejectTooLong();
    } else {
      this.handleLine(line, 0, line.length);
    }
  }

  protected rejectTooLong() {
    this.reject(`line is longer than ${this.stream.maxLineBytes} bytes`);
  }

  /** Whether `text[start, end)` is longer than `maxLineBytes` in UTF-8 (not in characters: "ä" is 2 bytes, "⚡" 3). */
  protected isTooLong(text: string, start = 0, end = text.length): boolean {
    const max = this.stream.maxLineBytes;
    const length = end - start;
    // a UTF-16 code unit is 1 to 3 UTF-8 bytes: count bytes only when the length leaves it open
    if (length > max) return true;
    return (
      length * 3 > max &&
      Buffer.byteLength(start === 0 && end === text.length ? text : text.slice(start, end), 'utf8') > max
    );
  }

  protected reject(error: string) {
    this.invalidCount++;
    if (this.invalid.length < this.stream.maxInvalidReported)
      this.invalid.push(this.counting === 'line' ? { line: this.lineNo, error } : { item: this.lineNo, error });
  }

  /** Called when a batch is taken (its key ids start again). */
  protected onBatchTaken(): void {}

  protected async flushBatch() {
    if (this.builder.length === 0) return;
    const batch = this.builder.take();
    this.onBatchTaken();
    const published = this.stream.publish(batch).then(
      () => {
        this.accepted += batch.length;
      },
      (err) => {
        this.failure ??= err;
      },
    );
    this.inFlight.push(published);
    if (this.inFlight.length >= (this.stream.maxInFlight ?? 2)) await this.inFlight.shift();
    if (this.failure) throw this.failure;
  }
}
