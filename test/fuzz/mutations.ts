import fc from 'fast-check';

/** Characters that mean something to one parser or another, and some that are awkward in any. */
const SPECIAL = '\\"\',;:= \t\r\n{}[]#-+.eE0123456789iutfäé⚡\ufeff\u0000\ud83d\ude00\ud800';

export type Mutation = { op: 'insert' | 'delete' | 'replace' | 'repeat'; at: number; text: string; n: number };

/** `s` with each mutation applied in turn: characters inserted, deleted, replaced, or a run repeated. */
export function mutate(s: string, mutations: readonly Mutation[]): string {
  for (const m of mutations) {
    const at = m.at % (s.length + 1);
    if (m.op === 'insert') s = s.slice(0, at) + m.text + s.slice(at);
    else if (m.op === 'delete') s = s.slice(0, at) + s.slice(at + m.n);
    else if (m.op === 'replace') s = s.slice(0, at) + m.text + s.slice(at + m.text.length);
    else s = s.slice(0, at) + s.slice(at, at + m.n).repeat(m.n) + s.slice(at + m.n);
  }
  return s;
}

/**
 * The text mutation operators every fuzz file shares: awkward characters (plus `extraSpecial`, e.g.
 * URL punctuation), arbitrary strings up to `maxLength`, and real samples with a few mutations.
 */
export function textArbitraries(options: { extraSpecial?: string; maxLength: number }) {
  const specialChar = fc.constantFrom(...(SPECIAL + (options.extraSpecial ?? '')).split(''));
  const anyChar = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
  const anyString = fc.string({
    unit: fc.oneof(specialChar, anyChar, fc.string({ minLength: 1, maxLength: 1 })),
    maxLength: options.maxLength,
  });
  const mutation: fc.Arbitrary<Mutation> = fc.record({
    op: fc.constantFrom('insert', 'delete', 'replace', 'repeat'),
    at: fc.nat(),
    text: fc.oneof(specialChar, anyString),
    n: fc.integer({ min: 1, max: 8 }),
  });
  /** A sample with up to `most` mutations. */
  const mutated = (samples: readonly string[], most = 4) =>
    fc.tuple(fc.constantFrom(...samples), fc.array(mutation, { maxLength: most })).map(([s, ms]) => mutate(s, ms));
  return { specialChar, anyString, mutation, mutated };
}
