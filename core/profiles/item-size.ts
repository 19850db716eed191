/**
 * Size of an item as DynamoDB bills it (a write unit per started KB): attribute names and string values by
 * their UTF-8 length, numbers by about one byte per two significant digits plus one, one byte for booleans
 * and nulls, three bytes plus one per element for maps and lists, and the sum of the elements for sets.
 * See "Item sizes and formats" in the DynamoDB developer guide.
 */
export function itemSizeBytes(item: Record<string, unknown>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    size += Buffer.byteLength(name) + valueSize(value);
  }
  return size;
}

function valueSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return Buffer.byteLength(value);
    case 'number':
      return numberSize(value);
    case 'boolean':
      return 1;
    case 'object': {
      if (value === null) return 1;
      if (value instanceof Set) return [...value].reduce((n: number, v) => n + valueSize(v), 0);
      if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + valueSize(v), 0);
      let n = 3;
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined) continue;
        n += 1 + Buffer.byteLength(k) + valueSize(v);
      }
      return n;
    }
    default:
      return 0;
  }
}

function numberSize(n: number): number {
  // Significant digits of the decimal form DynamoDB stores (up to 38).
  const digits = Math.min(38, n.toExponential().replace(/^-/, '').replace(/e.*$/, '').replace('.', '').length);
  return Math.ceil(digits / 2) + 1;
}
