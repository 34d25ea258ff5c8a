/**
 * Parquet through DuckDB (@duckdb/node-api, in-process; parquet and json are built in, nothing is
 * downloaded). Used by the export (rewrite one partition file) and by the local CLI (query the
 * exported files). Files are zstd-compressed Parquet with the column types of export-schema.ts.
 *
 * Results: BIGINT comes back from DuckDB as a string in JSON form; `rowsOf` turns it into a number
 * when it is a safe integer, so counts print as numbers.
 */
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBResultReader } from '@duckdb/node-api';
import { DATASETS, SCHEMAS, type ColumnType, type Dataset, type Row } from '../domain/export-schema.js';

const SQL_TYPE: Readonly<Record<ColumnType, string>> = {
  varchar: 'VARCHAR', bigint: 'BIGINT', integer: 'INTEGER', double: 'DOUBLE', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP', 'varchar[]': 'VARCHAR[]',
};
/** JSON input type of a column (timestamps arrive as epoch ms). */
const JSON_TYPE = (t: ColumnType) => (t === 'timestamp' ? 'BIGINT' : SQL_TYPE[t]);

export const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

export class ParquetError extends Error {
  override readonly name = 'ParquetError';
}

/** Rows of a result as plain JSON values (BIGINT → number when safe, timestamps as text). */
export function rowsOf(reader: DuckDBResultReader): Array<Record<string, unknown>> {
  const bigintCols = new Set(reader.columnNames().filter((_, i) => /INT/.test(String(reader.columnTypes()[i])) && /BIG|HUGE/.test(String(reader.columnTypes()[i]))));
  return reader.getRowObjectsJson().map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      out[k] = bigintCols.has(k) && typeof v === 'string' && Number.isSafeInteger(Number(v)) ? Number(v) : v;
    }
    return out;
  });
}

export interface RewriteArgs {
  readonly dataset: Dataset;
  /** The partition's current file (null: a new partition). */
  readonly oldFile: string | null;
  /** Old rows to drop: a row goes when any listed column holds one of its values. Rows with the key of a new row always go. `'all'` drops every old row. */
  readonly drop: ReadonlyArray<{ readonly column: string; readonly values: readonly string[] }> | 'all';
  readonly rows: readonly Row[];
  /** Where to write the new Parquet file. */
  readonly outFile: string;
}

/** One DuckDB instance for a run (an export or a CLI session). */
export class ParquetEngine {
  private seq = 0;
  private constructor(private readonly instance: DuckDBInstance, private readonly con: DuckDBConnection, private readonly tmpDir: string) {}

  /** `tmpDir` holds the engine's scratch files (in Lambda: under /tmp). */
  static async open(tmpDir: string): Promise<ParquetEngine> {
    mkdirSync(tmpDir, { recursive: true });
    // home_directory: Lambda's HOME is read-only; DuckDB only needs it for extensions we never install.
    const instance = await DuckDBInstance.create(':memory:', { home_directory: tmpDir, temp_directory: join(tmpDir, 'spill') });
    return new ParquetEngine(instance, await instance.connect(), tmpDir);
  }

  async query(sql: string): Promise<Array<Record<string, unknown>>> {
    return rowsOf(await this.con.runAndReadAll(sql));
  }

  async run(sql: string): Promise<void> {
    await this.con.run(sql);
  }

  /**
   * Rewrite one partition: the old file's rows minus the dropped ones, plus `rows`, sorted by the
   * dataset key, written to `outFile` (zstd). Returns the row count of the new file.
   */
  async rewritePartition(a: RewriteArgs): Promise<number> {
    const schema = SCHEMAS[a.dataset];
    const cols = schema.columns;
    const n = ++this.seq;
    const table = `part_${n}`;
    const json = join(this.tmpDir, `rows-${n}.ndjson`);
    try {
      await this.run(`CREATE TEMP TABLE ${table} (${cols.map((c) => `"${c.name}" ${SQL_TYPE[c.type]}`).join(', ')})`);
      if (a.oldFile && a.drop !== 'all') {
        const drops = [...a.drop, { column: schema.key, values: a.rows.map((r) => String(r[schema.key])) }]
          .filter((d) => d.values.length > 0)
          .map((d) => `"${d.column}" IN (${[...new Set(d.values)].map(sqlString).join(', ')})`);
        await this.run(`INSERT INTO ${table} BY NAME SELECT * FROM read_parquet(${sqlString(a.oldFile)}, hive_partitioning = false)${drops.length ? ` WHERE NOT (${drops.join(' OR ')})` : ''}`);
      }
      if (a.rows.length > 0) {
        writeFileSync(json, a.rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
        const columns = cols.map((c) => `${sqlString(c.name)}: ${sqlString(JSON_TYPE(c.type))}`).join(', ');
        const select = cols.map((c) => (c.type === 'timestamp' ? `epoch_ms("${c.name}") AS "${c.name}"` : `"${c.name}"`)).join(', ');
        await this.run(`INSERT INTO ${table} BY NAME SELECT ${select} FROM read_json(${sqlString(json)}, format = 'newline_delimited', columns = {${columns}})`);
      }
      await this.run(`COPY (SELECT * FROM ${table} ORDER BY "${schema.key}") TO ${sqlString(a.outFile)} (FORMAT parquet, COMPRESSION zstd)`);
      const [row] = await this.query(`SELECT count(*) AS n FROM ${table}`);
      return Number(row!.n);
    } catch (e) {
      throw new ParquetError(`parquet: rewriting a ${a.dataset} partition failed`, { cause: e });
    } finally {
      rmSync(json, { force: true });
      await this.run(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    }
  }

  /**
   * Views `tickets`, `messages`, `customers`, `events`, `surveys` over `<dir>/<dataset>/dt=…/*.parquet`
   * with the `dt` partition column (VARCHAR, like Athena's). A dataset without files is an empty view.
   */
  async createViews(dir: string, hasFiles: (dataset: Dataset) => boolean): Promise<void> {
    for (const d of DATASETS) {
      const cols = SCHEMAS[d].columns;
      const body = hasFiles(d)
        ? `SELECT * FROM read_parquet(${sqlString(join(dir, d, '*', '*.parquet'))}, hive_partitioning = true, hive_types = {'dt': VARCHAR}, union_by_name = true)`
        : `SELECT ${cols.map((c) => `CAST(NULL AS ${SQL_TYPE[c.type]}) AS "${c.name}"`).join(', ')}, CAST(NULL AS VARCHAR) AS dt WHERE false`;
      await this.run(`CREATE OR REPLACE VIEW ${d} AS ${body}`);
    }
  }

  close(): void {
    try { this.con.closeSync(); } finally { this.instance.closeSync(); }
  }
}
