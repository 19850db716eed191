/**
 * Hive (Glue) column types to DuckDB types, so the local views read the lake with exactly the catalog's
 * columns. Covers the types the catalog uses: scalars, struct<...>, map<k,v>, array<t>.
 */
const SCALARS: Record<string, string> = {
  string: 'VARCHAR',
  varchar: 'VARCHAR',
  bigint: 'BIGINT',
  int: 'INTEGER',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  date: 'DATE',
};

/** Splits `a:t1,b:map<x,y>` at top-level commas. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '<') depth++;
    else if (ch === '>') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim());
}

export function hiveToDuckDbType(hive: string): string {
  const t = hive.trim();
  const scalar = SCALARS[t.toLowerCase()];
  if (scalar) return scalar;
  const m = /^(struct|map|array)<(.*)>$/i.exec(t);
  if (!m) throw new Error(`unsupported Hive type: ${hive}`);
  const [, kind, inner] = m as unknown as [string, string, string];
  switch (kind.toLowerCase()) {
    case 'array':
      return `${hiveToDuckDbType(inner)}[]`;
    case 'map': {
      const [k, v] = splitTopLevel(inner);
      return `MAP(${hiveToDuckDbType(k!)}, ${hiveToDuckDbType(v!)})`;
    }
    default: {
      const fields = splitTopLevel(inner).map((f) => {
        const colon = f.indexOf(':');
        return `"${f.slice(0, colon)}" ${hiveToDuckDbType(f.slice(colon + 1))}`;
      });
      return `STRUCT(${fields.join(', ')})`;
    }
  }
}
