/**
 * Runs the lake's deployed Athena named queries with DuckDB over a local lake, so their results can be
 * checked without AWS. The SQL executed is the deployed file passed through `translateTrinoToDuckDb`: a short,
 * ordered list of textual rules, each for one documented difference between Athena (Trino) and DuckDB.
 * Everything else in the queries is written in the common subset of both dialects.
 *
 * The four catalog tables become DuckDB views over the zone folders with the catalog's columns and types and
 * the same Hive partition columns (strings), so partition pruning works as it does with partition projection.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CURATED_COLUMNS,
  HOUR_PARTITION_COLUMNS,
  LAKE_TABLES,
  PROFILE_EXPORT_COLUMNS,
  PROFILE_EXPORT_PARTITION_COLUMNS,
  PROFILE_EXPORT_PREFIX,
  QUARANTINE_COLUMNS,
  RAW_COLUMNS,
} from '../../core/lake/catalog';
import { ZONE_PREFIX } from '../../core/lake/layout';
import type { EventColumn } from '@personalization-data-platform/contract';
import { loadNamedQueries, type NamedQuerySql } from '../../lib/lake/named-queries';
import { hiveToDuckDbType } from './duckdb-types';

export interface TranslationOptions {
  /** The query's clock: `current_date` and `current_timestamp` become this instant (UTC). @default the real clock */
  readonly now?: Date;
}

export interface TranslationRule {
  /** What the rule handles. */
  readonly name: string;
  /** Why it is needed: the dialect difference. */
  readonly why: string;
  readonly apply: (sql: string, o: TranslationOptions) => string;
}

/** Matches a SQL keyword or function name as a whole word, outside of quoted strings is not checked: queries do not quote these names. */
const word = (w: string) => new RegExp(`\\b${w}\\b`, 'gi');

/**
 * The Trino -> DuckDB rules, applied in this order. Each is deterministic (same input, same output) and has
 * its own test.
 */
export const TRANSLATION_RULES: readonly TranslationRule[] = [
  {
    name: 'fixed clock: current_timestamp',
    why: 'Queries relative to now must be checked against a known now; DuckDB and Athena both read the clock at query start.',
    apply: (sql, o) => (o.now ? sql.replace(word('current_timestamp'), `TIMESTAMPTZ '${o.now.toISOString()}'`) : sql),
  },
  {
    name: 'fixed clock: current_date',
    why: 'Athena runs in UTC; current_date is the UTC day of the query clock.',
    apply: (sql, o) => (o.now ? sql.replace(word('current_date'), `DATE '${o.now.toISOString().slice(0, 10)}'`) : sql),
  },
  {
    name: 'map lookup: element_at',
    why: "Trino's element_at(map, key) returns the value (NULL when absent); DuckDB's returns a list, map_extract_value returns the value.",
    apply: (sql) => sql.replace(/\belement_at\s*\(/gi, 'map_extract_value('),
  },
];

export function translateTrinoToDuckDb(sql: string, options: TranslationOptions = {}): string {
  return TRANSLATION_RULES.reduce((s, rule) => rule.apply(s, options), sql);
}

/** Rows as plain JSON values (bigints as strings, timestamps as ISO-like strings), as DuckDB renders them. */
export type Row = Record<string, unknown>;

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const columnsArg = (columns: readonly EventColumn[]) => `{${columns.map((c) => `${sqlString(c.name)}: ${sqlString(hiveToDuckDbType(c.type))}`).join(', ')}}`;
const hiveTypes = (columns: readonly EventColumn[]) => `{${columns.map((c) => `${sqlString(c.name)}: VARCHAR`).join(', ')}}`;

/** DynamoDB JSON's type keys as they appear in export files. */
function dynamoJsonCase(duckType: string): string {
  return duckType.replace(/"([smn])"/g, (_, k: string) => `"${k.toUpperCase()}"`);
}

async function hasFiles(dir: string, suffix: string): Promise<boolean> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.some((e) => e.isFile() && e.name.endsWith(suffix));
}

/** An empty relation with the table's columns, for a zone that holds no objects yet (a glob over nothing fails). */
function emptyRelation(columns: readonly EventColumn[]): string {
  return `SELECT ${columns.map((c) => `CAST(NULL AS ${hiveToDuckDbType(c.type)}) AS "${c.name}"`).join(', ')} WHERE false`;
}

export interface FilesRead {
  /** Files the scans read, summed over the plan's table scans. */
  readonly filesRead: number;
  /** The EXPLAIN ANALYZE text, for diagnostics. */
  readonly plan: string;
}

/** DuckDB over a local lake: the catalog's tables as views, and the named queries. */
export class LakeQueryRunner {
  private constructor(
    private readonly db: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    readonly queries: ReadonlyMap<string, NamedQuerySql>,
  ) {}

  /** Opens DuckDB in memory over the lake at `root` (see LocalLake for the layout). */
  static async open(root: string): Promise<LakeQueryRunner> {
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    // Athena sessions are UTC.
    await connection.run(`SET TimeZone = 'UTC'`);
    const runner = new LakeQueryRunner(db, connection, new Map(loadNamedQueries().map((q) => [q.id, q])));
    await runner.refresh(root);
    return runner;
  }

  /** (Re)creates the views; call after writing objects to a zone that was empty. */
  async refresh(root: string): Promise<void> {
    const part = [...HOUR_PARTITION_COLUMNS];
    const views: [string, string, string, readonly EventColumn[], (glob: string) => string][] = [
      [
        LAKE_TABLES.curated,
        join(root, 'curated', ZONE_PREFIX.curated),
        '.parquet',
        [...CURATED_COLUMNS, ...part],
        (glob) => `SELECT * FROM read_parquet(${sqlString(glob + '*/*/*.parquet')}, hive_partitioning = true, hive_types = ${hiveTypes(part)})`,
      ],
      [
        LAKE_TABLES.raw,
        join(root, 'raw', ZONE_PREFIX.raw),
        '.gz',
        [...RAW_COLUMNS, ...part],
        // One row per line, as the OpenX SerDe with ignore.malformed.json reads it: a line that is not a JSON
        // object is a row of NULLs (still counted), a field holding an object reads as its JSON text. The raw
        // framing keeps one record per line with no control character but TAB, so the unit separator is never in
        // a line; a record that needed encoding is a 0x1E line, which reads as NULLs.
        (glob) =>
          `SELECT ${RAW_COLUMNS.map((c) => `CASE WHEN json_valid(line) THEN json_extract_string(line, '$."${c.name}"') END AS "${c.name}"`).join(', ')}, dt, hour ` +
          `FROM read_csv(${sqlString(glob + '*/*/*.gz')}, columns = {'line': 'VARCHAR'}, delim = '\x1f', quote = '', escape = '', header = false, ` +
          `compression = 'gzip', hive_partitioning = true, hive_types = ${hiveTypes(part)})`,
      ],
      [
        LAKE_TABLES.quarantine,
        join(root, 'quarantine', ZONE_PREFIX.quarantine),
        '.jsonl',
        [...QUARANTINE_COLUMNS, ...part],
        (glob) =>
          `SELECT * FROM read_json(${sqlString(glob + '*/*/*.jsonl')}, format = 'newline_delimited', columns = ${columnsArg(QUARANTINE_COLUMNS)}, hive_partitioning = true, hive_types = ${hiveTypes(part)})`,
      ],
      [
        LAKE_TABLES.profileExports,
        join(root, 'curated', PROFILE_EXPORT_PREFIX),
        '',
        [...PROFILE_EXPORT_COLUMNS, ...PROFILE_EXPORT_PARTITION_COLUMNS, { name: '$path', type: 'string', comment: "Athena's pseudo-column: the object a row came from." }],
        // Athena reads every object under a partition, manifests included; they read as rows without an item, and
        // Athena's "$path" column says which object a row came from (DuckDB's filename column stands in for it).
        // DynamoDB JSON keys are capitalized ("Item", "S", "M", "N"); the OpenX SerDe matches them case-insensitively,
        // DuckDB's JSON reader does not, so the local reader declares them as written and renames the column.
        (glob) =>
          `SELECT Item AS item, snapshot, filename AS "$path" FROM read_json(${sqlString(glob + '*/**')}, format = 'newline_delimited', compression = 'auto_detect', ` +
          `columns = {'Item': ${sqlString(dynamoJsonCase(hiveToDuckDbType(PROFILE_EXPORT_COLUMNS[0]!.type)))}}, ignore_errors = true, filename = true, ` +
          `hive_partitioning = true, hive_types = ${hiveTypes(PROFILE_EXPORT_PARTITION_COLUMNS)})`,
      ],
    ];
    for (const [name, dir, suffix, columns, source] of views) {
      const body = (await hasFiles(dir, suffix)) ? source(dir.endsWith('/') ? dir : dir + '/') : emptyRelation(columns);
      await this.connection.run(`CREATE OR REPLACE VIEW ${name} AS ${body}`);
    }
  }

  /** Runs SQL written for Athena, translated. */
  async run(sql: string, options: TranslationOptions = {}): Promise<Row[]> {
    const reader = await this.connection.runAndReadAll(translateTrinoToDuckDb(sql, options));
    return reader.getRowObjectsJson() as Row[];
  }

  /** Runs a deployed named query by id (its file name without `.sql`). */
  async runNamedQuery(id: string, options: TranslationOptions = {}): Promise<Row[]> {
    const q = this.queries.get(id);
    if (!q) throw new Error(`unknown named query '${id}' (known: ${[...this.queries.keys()].join(', ')})`);
    return this.run(q.sql, options);
  }

  /**
   * How many files a query reads: shows partition pruning (the "Total Files Read" of every scan in the analyzed
   * plan, read from its JSON form: the text form of a wide plan wraps the figures onto other lines).
   */
  async filesRead(sql: string, options: TranslationOptions = {}): Promise<FilesRead> {
    const reader = await this.connection.runAndReadAll(`EXPLAIN (ANALYZE, FORMAT json) ${translateTrinoToDuckDb(sql, options)}`);
    const plan = reader.getRows().map((r) => r.map(String).join('\n')).join('\n');
    const counts = [...plan.matchAll(/"Total Files Read":\s*"?(\d+)/g)].map((m) => Number(m[1]));
    if (counts.length === 0) throw new Error(`no file scan in the plan:\n${plan}`);
    return { filesRead: counts.reduce((a, b) => a + b, 0), plan };
  }

  close(): void {
    this.connection.closeSync();
    this.db.closeSync();
  }
}
