/**
 * Normalizations named by `x-normalize` in the schema and applied by the generated validator before a
 * field's rules are checked, so equivalent producer spellings become one value:
 *   - `trim`            surrounding white space removed ("  running shoes " -> "running shoes")
 *   - `lowercase-trim`  trimmed and case-folded ("Shoes " -> "shoes": one affinity, not two)
 *   - `locale`          BCP 47 canonical case with '-' ("en_us" -> "en-US", "EN" -> "en")
 * Each returns its input unchanged (the same string) when there is nothing to do, so the caller can skip
 * the write: storing into a JSON.parse object is measurably slower than leaving it alone.
 */
export function trim(s: string): string {
  return s.trim();
}

export function lowercaseTrim(s: string): string {
  return s.trim().toLowerCase();
}

export function locale(s: string): string {
  const n = s.length;
  if (n === 2 && isLower(s, 0) && isLower(s, 1)) return s;
  if (n === 5 && isLower(s, 0) && isLower(s, 1) && s.charCodeAt(2) === 45 && isUpper(s, 3) && isUpper(s, 4)) return s;
  const parts = s.trim().split(/[-_]/);
  if (parts.length > 2) return s;
  const language = parts[0]!.toLowerCase();
  return parts.length === 1 ? language : `${language}-${parts[1]!.toUpperCase()}`;
}

function isLower(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 97 && c <= 122;
}

function isUpper(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 65 && c <= 90;
}

export const NORMALIZERS = { trim, 'lowercase-trim': lowercaseTrim, locale } as const;
export type NormalizerName = keyof typeof NORMALIZERS;
