import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors';

/** Folder of the named queries: one `.sql` file each, deployed verbatim as an Athena named query. */
export const QUERIES_DIR = join(__dirname, 'queries');

export interface NamedQuerySql {
  /** File name without `.sql`: the query's stable id (also the local runner's name for it). */
  readonly id: string;
  /** `-- name:` header: the name shown in the Athena console. */
  readonly name: string;
  /** `-- description:` header. */
  readonly description: string;
  /** The whole file, headers included: what Athena runs. */
  readonly sql: string;
}

/** Parses one query file; its first lines must be `-- name:` and `-- description:` headers. */
export function parseNamedQuery(id: string, sql: string): NamedQuerySql {
  const header = (key: string): string => {
    const m = new RegExp(`^-- ${key}: (.+)$`, 'm').exec(sql);
    if (!m) throw new ConfigError(`named query ${id}: missing '-- ${key}:' header`);
    return m[1]!.trim();
  };
  return { id, name: header('name'), description: header('description'), sql: sql.trimEnd() + '\n' };
}

/** Every named query of the lake, sorted by id. */
export function loadNamedQueries(dir: string = QUERIES_DIR): NamedQuerySql[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => parseNamedQuery(f.slice(0, -4), readFileSync(join(dir, f), 'utf8')));
}
