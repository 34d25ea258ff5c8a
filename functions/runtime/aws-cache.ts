/**
 * The per-name clients an AWS execution environment keeps between invocations, shared by the full
 * platform (./aws.ts) and the public entry points' one (./aws-edge.ts): one `Db` per table, one
 * `MediaStore` per bucket. Neither imports a client it does not need (the media store is made by
 * the caller, so the edge platform carries no S3 client unless it asks for one).
 */
import { createDb, retentionOf, type Db } from '../store/db.js';
import { requireSetting, type Config } from './config.js';
import type { MediaStore } from './ports.js';

/** `platform.db`: the table of `CONFLUO_TABLE_NAME`, made once per name. */
export function dbPerTable(): (config: Config) => Db {
  const dbs = new Map<string, Db>();
  return (config) => {
    let db = dbs.get(config.CONFLUO_TABLE_NAME);
    if (!db) dbs.set(config.CONFLUO_TABLE_NAME, (db = createDb(config.CONFLUO_TABLE_NAME, {}, retentionOf(config))));
    return db;
  };
}

/** `platform.media`: the store of `CONFLUO_MEDIA_BUCKET` (required), made once per bucket by `make`. */
export function mediaPerBucket(make: (bucket: string) => MediaStore): (config: Config) => MediaStore {
  const stores = new Map<string, MediaStore>();
  return (config) => {
    const bucket = requireSetting(config, 'CONFLUO_MEDIA_BUCKET', 'media');
    let store = stores.get(bucket);
    if (!store) stores.set(bucket, (store = make(bucket)));
    return store;
  };
}
