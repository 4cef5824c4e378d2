import type { Db, MongoClient, MongoClientOptions } from 'mongodb';
import { LedgerStore } from '../../services/account-service/ledger/ledger-store';
import { startTestMongo } from './cluster';

/** A ledger's database on a FerretDB of its own, with the ledger's indexes, for tests that drive the Ledger in process. */
export interface LedgerDatabase {
  mongo: MongoClient;
  db: Db;
  stop: () => Promise<void>;
}

export async function startLedgerDatabase(name: string, options: MongoClientOptions = {}): Promise<LedgerDatabase> {
  const { mongo, stop } = await startTestMongo(name, { maxPoolSize: 200, ...options });
  const db = mongo.db(name.replace(/-/g, '_'));
  await new LedgerStore(db).ensureIndexes();
  return { mongo, db, stop };
}
