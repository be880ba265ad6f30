import type { DeadLetter } from '../../core/bus/index.js';
import { formatTable } from '../table.js';

/** A dead letter as `GET /api/v1/dlq` lists it: the bus's own shape, sent as JSON. */
export type DeadLetterInfo = DeadLetter;

/** One row per dead letter under an `id topic time bytes deliveries reason` header. */
export function formatDeadLettersTable(letters: readonly DeadLetterInfo[]): string {
  const rows = [
    ['id', 'topic', 'time', 'bytes', 'deliveries', 'reason'],
    ...letters.map((d) => [d.id, d.topic, d.time, String(d.bytes), String(d.deliveries), d.reason]),
  ];
  return formatTable(rows);
}
