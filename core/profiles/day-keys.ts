/** 'YYYYMMDD' day keys of event times, cached per day: formatting a date is the slow part of folding an event. */
import { DAY_MS, dayKey } from './model';

export class DayKeyCache {
  private readonly keys = new Map<number, string>();

  constructor(private readonly maxDays = 4096) {}

  /** dayKey(ms). */
  keyOf(ms: number): string {
    const day = Math.floor(ms / DAY_MS);
    let key = this.keys.get(day);
    if (key === undefined) {
      if (this.keys.size > this.maxDays) this.keys.clear();
      key = dayKey(ms);
      this.keys.set(day, key);
    }
    return key;
  }
}
