import type { Bus } from '../../core/bus/index.js';
import type { FileStatus } from './repository.js';

/**
 * The seed's `data_ingestion` topic: a broadcast (live fan-out, nothing stored) of what became of
 * each file a scan processed. The buildings module's WebSocket forwards it to every client.
 */
export const DATA_INGESTION = 'data_ingestion';

export interface DataIngestionMessage {
  type: 'data_ingestion';
  location: string;
  path: string;
  status: FileStatus;
  readings: number;
  /** Why rejected, skipped or still pending. */
  error: string | null;
  /** A rejected file's line (1-based). */
  line: number | null;
  /** The content was ingested before from another path (`<location>:<path>`), or this path's content changed and was ingested again. */
  duplicate_of: string | null;
  replaced: boolean;
  /** ISO 8601 UTC. */
  at: string;
}

export function emitDataIngestion(bus: Bus, message: DataIngestionMessage): void {
  bus.broadcast<DataIngestionMessage>(DATA_INGESTION, message);
}
