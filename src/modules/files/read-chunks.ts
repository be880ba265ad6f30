import fs from 'node:fs';

const CHUNK_BYTES = 64 * 1024;

/**
 * A file's bytes front to back through ONE buffer: each chunk is valid until the next is asked for.
 * A read stream allocates a fresh 64 KB buffer per chunk, which only a garbage collection gives back:
 * hashing and then parsing a 50 MB file that way left tens of MB of dead buffers resident.
 */
export async function* readChunks(file: string): AsyncGenerator<Buffer> {
  const handle = await fs.promises.open(file, 'r');
  try {
    // outside Buffer's shared pool: this one buffer lives as long as the read
    const buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
