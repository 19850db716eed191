/**
 * How the raw zone keeps one line per record, whatever the record's bytes. Producers can put anything on the
 * raw stream: pretty-printed JSON with newlines, several JSON lines in one record, gzip, Latin-1, an empty
 * record. A plain newline after each record (Firehose's AppendDelimiterToRecord) would turn such a record into
 * several lines, or none, and the raw table's row count would no longer be the record count.
 *
 * So each record becomes exactly one line, ended by '\n':
 *   - as sent, when it is non-empty UTF-8 without control characters other than TAB (every compact JSON
 *     event, and any other text that cannot break a line reader);
 *   - otherwise as the byte 0x1E (ASCII record separator) followed by the record in base64 (RFC 4648, with
 *     padding). No line as sent can start with 0x1E, so the two kinds cannot be confused.
 *
 * Reading back: split the object (after gunzip) on '\n'; a line starting with 0x1E is the base64 of the
 * record, any other line is the record itself. readRawRecords() does exactly that.
 *
 * The raw table (JSON lines, malformed lines read as NULL rows) has one row per line, so one per record; an
 * encoded line reads as a row of NULLs, like any line that is not a JSON object. Hadoop's line reader (Athena)
 * and DuckDB's split lines at LF and CR, which verbatim lines never contain.
 *
 * The same function frames records in the deployed raw Firehose (a data-transformation Lambda,
 * lambdas/frame-raw) and in the local lake. Pure: no I/O, total on any input.
 */
import { isUtf8 } from 'node:buffer';

/** First byte of a line that holds a record in base64 (ASCII record separator). */
export const ENCODED_LINE_MARK = 0x1e;
const NEWLINE = 0x0a;
const TAB = 0x09;

/** Whether the record can sit on a line as it is: non-empty UTF-8 with no control character but TAB. */
export function fitsOnOneLine(data: Uint8Array): boolean {
  if (data.length === 0) return false;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b < 0x20 && b !== TAB) return false;
  }
  return isUtf8(data);
}

/** The record's line in the raw zone, '\n' included. */
export function rawLine(data: Uint8Array): Buffer {
  if (fitsOnOneLine(data)) {
    const line = Buffer.allocUnsafe(data.length + 1);
    line.set(data, 0);
    line[data.length] = NEWLINE;
    return line;
  }
  return Buffer.concat([Buffer.from([ENCODED_LINE_MARK]), Buffer.from(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'), 'latin1'), Buffer.from([NEWLINE])]);
}

/** The body of a raw object (before compression): each record's line, in order. */
export function rawObjectBody(records: readonly Uint8Array[]): Buffer {
  return Buffer.concat(records.map(rawLine));
}

/** The records of a raw object's body (after gunzip), byte for byte as they were sent. */
export function readRawRecords(body: Uint8Array): Buffer[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const records: Buffer[] = [];
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(NEWLINE, start);
    if (end === -1) end = buf.length; // a body cut short: its last line still counts
    const line = buf.subarray(start, end);
    records.push(line[0] === ENCODED_LINE_MARK ? Buffer.from(line.subarray(1).toString('latin1'), 'base64') : Buffer.from(line));
    start = end + 1;
  }
  return records;
}
