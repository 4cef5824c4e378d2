import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import { LedgerStore } from '../../services/account-service/ledger/ledger-store';
import { startTestFerretDb } from './cluster';

/** A ledger's database on a FerretDB of its own, with the ledger's indexes, for tests that drive the Ledger in process. */
export interface LedgerDatabase {
  mongo: MongoClient;
  db: Db;
  stop: () => Promise<void>;
}

export async function startLedgerDatabase(name: string, options: MongoClientOptions = {}): Promise<LedgerDatabase> {
  const ferret = await startTestFerretDb(name);
  const mongo = new MongoClient(ferret.database.url, { useBigInt64: true, maxPoolSize: 200, ...options });
  const db = mongo.db(name.replace(/-/g, '_'));
  await new LedgerStore(db).ensureIndexes();
  return {
    mongo,
    db,
    stop: async () => {
      await mongo.close();
      await ferret.stop();
    },
  };
}
