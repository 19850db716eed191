/**
 * A reusable byte buffer that grows on demand (off the JavaScript heap: nothing to collect). Owned by an
 * aggregation context, so two shards never write into the same bytes; allocated on first use.
 */
export class ScratchBuffer {
  private buffer: Buffer | undefined;

  constructor(private readonly initialBytes: number) {}

  /** A buffer of at least `length` bytes; its content is undefined. Valid until the next call. */
  get(length: number): Buffer {
    let buffer = this.buffer;
    if (buffer === undefined || buffer.length < length) {
      buffer = Buffer.allocUnsafeSlow(Math.max(length, this.initialBytes, (buffer?.length ?? 0) * 2));
      this.buffer = buffer;
    }
    return buffer;
  }
}
