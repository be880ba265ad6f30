import { StringDecoder } from 'node:string_decoder';
import { parentPort } from 'node:worker_threads';
import type { ReadingsParser } from './readings-parser.js';
import { createReadingsParser } from './readings-parser.js';
import type { FromWorker, ToWorker } from './parse-protocol.js';

/**
 * Parses NDJSON bodies off the main thread. Each session is one request body: chunks come in,
 * full batches go out (their arrays transferred, not copied) and wait for the main thread to say
 * they are durable, so the parser never runs more than two batches ahead of the store.
 * (The main thread counts what was accepted: it alone sees every publish succeed.)
 */
interface Session {
  parser: ReadingsParser;
  decoder: StringDecoder;
  work: Promise<void>;
  waiting: Map<number, { resolve: () => void; reject: (err: Error) => void }>;
  failed: boolean;
}

const port = parentPort!;
const sessions = new Map<number, Session>();
const send = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

port.on('message', (message: ToWorker) => {
  if (message.type === 'start') {
    let batchNo = 0;
    const waiting: Session['waiting'] = new Map();
    const parser = createReadingsParser(
      message.settings,
      (batch) =>
        new Promise<void>((resolve, reject) => {
          const no = batchNo++;
          waiting.set(no, { resolve, reject });
          const keyIndex = batch.keyIndex.slice().buffer;
          const ts = batch.ts.slice().buffer;
          const value = batch.value.slice().buffer;
          send(
            {
              type: 'batch',
              session: message.session,
              batchNo: no,
              keys: batch.keys,
              meta: batch.meta,
              keyIndex,
              ts,
              value,
              length: batch.length,
            },
            [keyIndex, ts, value],
          );
        }),
    );
    sessions.set(message.session, {
      parser,
      decoder: new StringDecoder('utf8'),
      work: Promise.resolve(),
      waiting,
      failed: false,
    });
    return;
  }
  const session = sessions.get(message.session);
  if (!session) return;
  switch (message.type) {
    case 'chunk':
      queue(message.session, session, async () => {
        await session.parser.write(
          session.decoder.write(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength)),
        );
        send({ type: 'chunk-done', session: message.session });
      });
      break;
    case 'end':
      queue(message.session, session, async () => {
        await session.parser.write(session.decoder.end());
        // the main thread waits for the batches to be durable; answering now saves two thread hops
        await session.parser.endWithoutWaiting();
        const { invalid, invalidCount } = session.parser;
        sessions.delete(message.session);
        send({ type: 'done', session: message.session, invalid, invalidCount });
      });
      break;
    case 'published':
      session.waiting.get(message.batchNo)?.resolve();
      session.waiting.delete(message.batchNo);
      break;
    case 'publish-failed':
      session.waiting.get(message.batchNo)?.reject(new Error(message.message));
      session.waiting.delete(message.batchNo);
      break;
  }
});

/** Runs a session's steps in order; the first failure ends the session and is reported once. */
function queue(id: number, session: Session, step: () => Promise<void>) {
  session.work = session.work.then(async () => {
    if (session.failed) return;
    try {
      await step();
    } catch (err) {
      session.failed = true;
      sessions.delete(id);
      send({ type: 'failed', session: id, message: (err as Error).message });
    }
  });
}
