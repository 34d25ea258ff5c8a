/**
 * The export's local writer: `<dir>/<dataset>/dt=<dt>/part-0.parquet` (by default
 * `$CONFLUO_DATA_DIR/export/`), replaced atomically (write beside, then rename), so DuckDB
 * queries running meanwhile see the old file or the new one, never half of one.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ExportWriter } from '../functions/handlers/export.js';
import { partitionPath } from '../functions/handlers/export.js';

export function localExportWriter(dir: string): ExportWriter {
  return {
    location: dir,
    async fetch(dataset, dt) {
      const file = join(dir, partitionPath(dataset, dt));
      return existsSync(file) ? file : null;
    },
    async put(dataset, dt, file) {
      const target = join(dir, partitionPath(dataset, dt));
      mkdirSync(dirname(target), { recursive: true });
      const tmp = `${target}.tmp-${process.pid}`;
      copyFileSync(file, tmp);
      renameSync(tmp, target);
      return statSync(target).size;
    },
  };
}

/** Does a dataset have any partition file under `dir`? */
export function hasPartitions(dir: string, dataset: string): boolean {
  const d = join(dir, dataset);
  if (!existsSync(d)) return false;
  return readdirSync(d).some((p) => p.startsWith('dt=') && existsSync(join(d, p, 'part-0.parquet')));
}
