/**
 * The events encoded in one invocation of a window state: latin-1 bytes in one growing buffer, and per event
 * its byte range and the next event of the same user (a chain per user), so encoding an event allocates
 * nothing and each user's new events become one string only when the state's text is needed.
 */
import type { ScratchBuffer } from './scratch-buffer';
import { ByteSink, encodeEventInto, type EncodeContext, type ScratchCursor } from './window-codec';
import type { EventScratch } from './profile-event';

export class EventArena {
  private readonly sink = new ByteSink();
  private sinkView?: Buffer;
  private starts = new Int32Array(1024);
  private ends = new Int32Array(1024);
  private nexts = new Int32Array(1024);
  private count = 0;
  /** Text of the events that are not latin-1 (rare), by event index. */
  private wide?: Map<number, string>;

  /** @param joinBuffer where a user's chain is joined before it becomes a string (shared by the context's states, one at a time). */
  constructor(private readonly joinBuffer: ScratchBuffer) {}

  /** Index of the last event appended. */
  get last(): number {
    return this.count - 1;
  }

  /**
   * Encodes `e` after the event `tail` of its user's chain (-1: the first of a new chain) and returns its
   * length in characters; its index is then `last`.
   */
  append(e: EventScratch, ctx: EncodeContext, cursor: ScratchCursor, tail: number): number {
    const index = this.count;
    if (index === this.starts.length) this.grow();
    const start = this.sink.length;
    let length = encodeEventInto(this.sink, e, ctx, cursor);
    if (length < 0) {
      length = this.sink.wide.length;
      (this.wide ??= new Map()).set(index, this.sink.wide);
    }
    this.starts[index] = start;
    this.ends[index] = this.sink.length;
    this.nexts[index] = -1;
    if (tail >= 0) this.nexts[tail] = index;
    this.count++;
    return length;
  }

  /** The '~'-joined text of the chain from `head` to `tail`, `chars` characters long. */
  text(head: number, tail: number, chars: number): string {
    if (this.wide === undefined && head === tail) return this.latin1(this.starts[head]!, this.ends[head]!);
    if (this.wide === undefined) {
      const scratch = this.joinBuffer.get(chars);
      let at = 0;
      const bytes = this.sink.bytes;
      for (let i = head; i >= 0; i = this.nexts[i]!) {
        if (at > 0) scratch[at++] = 126; // '~'
        for (let k = this.starts[i]!, end = this.ends[i]!; k < end; k++) scratch[at++] = bytes[k]!;
      }
      return scratch.toString('latin1', 0, at);
    }
    const parts: string[] = [];
    for (let i = head; i >= 0; i = this.nexts[i]!) parts.push(this.wide.get(i) ?? this.latin1(this.starts[i]!, this.ends[i]!));
    return parts.join('~');
  }

  /** Latin-1 text of a range of the event buffer. */
  private latin1(start: number, end: number): string {
    const bytes = this.sink.bytes;
    if (this.sinkView === undefined || this.sinkView.buffer !== bytes.buffer) this.sinkView = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return this.sinkView.toString('latin1', start, end);
  }

  private grow(): void {
    const grow = (a: Int32Array) => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.starts = grow(this.starts);
    this.ends = grow(this.ends);
    this.nexts = grow(this.nexts);
  }
}
