/**
 * A predicate for base names matching any of the globs, case-insensitively: `*` is any run of
 * characters, `?` one character, everything else literal (`*.SGL_V2` matches `loads.sgl_v2`).
 */
export function nameMatcher(patterns: readonly string[]): (name: string) => boolean {
  const regexes = patterns.map((pattern) => {
    const source = [...pattern]
      .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
      .join('');
    return new RegExp(`^${source}$`, 'is');
  });
  return (name) => regexes.some((regex) => regex.test(name));
}

/** Dotfiles and `.partial` files are uploads in progress or hidden: never listed. */
export function isHiddenOrPartial(name: string): boolean {
  return name.startsWith('.') || name.toLowerCase().endsWith('.partial');
}

/** Where the scanner moves files it cannot use (folders only); never listed. */
export const REJECTED_DIR = 'rejected';
