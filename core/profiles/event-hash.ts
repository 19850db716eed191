/**
 * The 48-bit hashes that stand for event and session ids inside a profile's window state and ledger: cyrb53
 * cut to 48 bits, written as 8 base64url characters. Pure functions: a hash is returned as one number (a
 * safe integer) or written into the caller's object, never kept in module state.
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
export const B64_CODES: readonly number[] = Array.from(B64, (c) => c.charCodeAt(0));

/** base64url character code -> 6-bit value, or -1. */
const B64_VALUES = new Int8Array(128).fill(-1);
B64_CODES.forEach((c, i) => (B64_VALUES[c] = i));

/** 2^24: a 48-bit hash is `hi * HALF + lo`. */
const HALF = 0x1000000;

/** cyrb53 (a fast, well-mixed 53-bit string hash), cut to 48 bits: `hi * 2^24 + lo`, a safe integer. */
export function hash48(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  // 24 bits from each half.
  return ((h2 >>> 8) & 0xffffff) * HALF + (h1 >>> 8);
}

/** The upper 24 bits of a 48-bit hash. */
export const hashHi = (hash: number): number => Math.floor(hash / HALF);
/** The lower 24 bits of a 48-bit hash. */
export const hashLo = (hash: number): number => hash % HALF;

/** The 8 base64url characters of a 48-bit hash given as two 24-bit halves. */
export function hashText(hi: number, lo: number): string {
  return String.fromCharCode(
    B64_CODES[(hi >>> 18) & 63]!, B64_CODES[(hi >>> 12) & 63]!, B64_CODES[(hi >>> 6) & 63]!, B64_CODES[hi & 63]!,
    B64_CODES[(lo >>> 18) & 63]!, B64_CODES[(lo >>> 12) & 63]!, B64_CODES[(lo >>> 6) & 63]!, B64_CODES[lo & 63]!,
  );
}

/** cyrb53 (a fast, well-mixed 53-bit string hash), cut to 48 bits and written as 8 base64url characters. */
export function shortHash(eventId: string): string {
  const h = hash48(eventId);
  return hashText(hashHi(h), hashLo(h));
}

/** Value of 4 base64url characters of `s` from `at` (24 bits), or -1 when one is not base64url. */
export function hashHalfAt(s: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 4; i++) {
    const c = s.charCodeAt(i);
    const d = c < 128 ? B64_VALUES[c]! : -1;
    if (d < 0) return -1;
    v = (v << 6) | d;
  }
  return v;
}
