/** Tags as both engines store them (JSON text of string values, or NULL), as the catalog holds them. */
export function parseTags(text: string | null): Record<string, string> | null {
  if (!text) return null;
  const parsed: unknown = JSON.parse(text);
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, string>) : null;
}
