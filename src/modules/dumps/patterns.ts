import { InvalidInput } from '../../core/errors.js';

// a series key with `*` wildcards
const SERIES_PATTERN = /^[A-Za-z0-9_.:/*-]{1,200}$/;

/** Series patterns from a list or a comma-separated string; a bad one is a 400 naming it. */
export function parsePatterns(value: unknown): string[] {
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  if (!items || items.some((p) => typeof p !== 'string'))
    throw new InvalidInput('invalid_series', 'series must be a list of series patterns or a comma-separated string', {
      field: 'series',
    });
  const patterns = (items as string[]).map((p) => p.trim()).filter(Boolean);
  const bad = patterns.find((p) => !SERIES_PATTERN.test(p));
  if (bad !== undefined)
    throw new InvalidInput(
      'invalid_series',
      `series pattern "${bad.slice(0, 50)}" may hold only letters, digits, _ . : / - and * (at most 200)`,
      { field: 'series' },
    );
  return patterns;
}
