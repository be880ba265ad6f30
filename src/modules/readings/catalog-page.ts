import { InvalidInput } from '../../core/errors.js';
import type { CatalogPage } from './storage.js';

export const CATALOG_DEFAULT_LIMIT = 1000;
const MAX_PREFIX_CHARS = 200;

/**
 * The page of `GET /api/v1/series` its query string asks for, or a 400 naming the parameter:
 * `limit` (1–`maxLimit`, the setting `query.catalogMaxLimit`; default 1000), `prefix` (keys starting
 * with it), `cursor` (a previous answer's `next`: opaque, it holds the last key shown) and
 * `tag.<key>=<value>` (series with that tag).
 */
export function parseCatalogParams(params: Record<string, unknown>, maxLimit: number): CatalogPage {
  const text = (name: string): string | undefined => {
    const v = params[name];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') throw new InvalidInput(`invalid_${name}`, `${name} must be given once`, { field: name });
    return v;
  };
  const limitText = text('limit');
  const limit = limitText === undefined ? Math.min(CATALOG_DEFAULT_LIMIT, maxLimit) : Number(limitText);
  if (!/^\d+$/.test(limitText ?? '1') || limit < 1 || limit > maxLimit)
    throw new InvalidInput(
      'invalid_limit',
      `limit must be a whole number from 1 to ${maxLimit} (query.catalogMaxLimit; got "${String(limitText).slice(0, 20)}")`,
      { field: 'limit' },
    );
  const prefix = text('prefix');
  if (prefix !== undefined && prefix.length > MAX_PREFIX_CHARS)
    throw new InvalidInput('invalid_prefix', `prefix must be at most ${MAX_PREFIX_CHARS} characters`, {
      field: 'prefix',
    });
  const cursor = text('cursor');
  // tag.<key>=<value>: series whose tags hold every one of them
  let tags: Record<string, string> | undefined;
  for (const name of Object.keys(params)) {
    if (!name.startsWith('tag.')) continue;
    const value = params[name];
    if (name.length === 4 || typeof value !== 'string')
      throw new InvalidInput('invalid_tag', `${name.slice(0, 40)} must be tag.<key>=<value>, given once`, {
        field: name,
      });
    tags ??= {};
    tags[name.slice(4)] = value;
  }
  return { limit, prefix, tags, afterKey: cursor === undefined ? undefined : decodeCursor(cursor) };
}

/** The `next` of an answer: where the page after the one ending at `lastKey` starts. */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(JSON.stringify({ after: lastKey })).toString('base64url');
}

function decodeCursor(cursor: string): string {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const after = (decoded as { after?: unknown } | undefined)?.after;
  if (typeof after !== 'string')
    throw new InvalidInput('invalid_cursor', 'cursor must be the "next" of a previous answer, unchanged', {
      field: 'cursor',
    });
  return after;
}
