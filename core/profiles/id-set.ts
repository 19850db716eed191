/**
 * The id hashes of one user's pending events: an open-addressing set of 48-bit numbers in a typed array,
 * so checking and adding an id allocates nothing.
 */
import { hashHalfAt } from './event-hash';

export class IdSet {
  private keys = new Float64Array(16).fill(-1);
  size = 0;

  has(hi: number, lo: number): boolean {
    const keys = this.keys;
    const mask = keys.length - 1;
    const key = hi * 0x1000000 + lo;
    for (let i = (hi ^ lo) & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) return true;
      if (k === -1) return false;
    }
  }

  /** Adds an id that is not in the set. */
  add(hi: number, lo: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    this.insert(hi * 0x1000000 + lo, hi ^ lo);
    this.size++;
  }

  private insert(key: number, hash: number): void {
    const keys = this.keys;
    const mask = keys.length - 1;
    let i = hash & mask;
    while (keys[i] !== -1) i = (i + 1) & mask;
    keys[i] = key;
  }

  private grow(): void {
    const old = this.keys;
    this.keys = new Float64Array(old.length * 2).fill(-1);
    for (const key of old) {
      if (key === -1) continue;
      const hi = Math.floor(key / 0x1000000);
      this.insert(key, hi ^ (key - hi * 0x1000000));
    }
  }

  /** The ids of a user's encoded events (the third field of each '~'-separated event; see window-codec.ts). */
  static fromText(text: string): IdSet {
    const set = new IdSet();
    if (text === '') return set;
    // About 30 characters an event: size the table once instead of growing it step by step.
    let capacity = 16;
    while (capacity < text.length / 15) capacity *= 2;
    if (capacity > 16) set.keys = new Float64Array(capacity).fill(-1);
    let start = 0;
    for (;;) {
      const a = text.indexOf('|', start);
      const b = text.indexOf('|', a + 1);
      const hi = hashHalfAt(text, b + 1);
      const lo = hashHalfAt(text, b + 5);
      if (hi >= 0 && lo >= 0 && !set.has(hi, lo)) set.add(hi, lo);
      const next = text.indexOf('~', b);
      if (next < 0) return set;
      start = next + 1;
    }
  }
}
