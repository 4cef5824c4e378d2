import { MongoClient, MongoServerError, type Collection } from 'mongodb';
import { ferretDbBinaryPath } from '../../../infra/binaries';
import { findFreePort } from '../../../infra/ports';
import { startFerretDb, type RunningFerretDb } from '../../../infra/processes/ferretdb';
import { fileLogSink, temporaryDir } from '../../support/cluster';

jest.setTimeout(120_000);

const duplicateKey = 11000;
const racers = 200;

interface Counted {
  inserted: number;
  duplicates: number;
  other: unknown[];
}

async function raceInserts<T extends { _id: string }>(collection: Collection<T>, documents: T[]): Promise<Counted> {
  const results = await Promise.allSettled(documents.map((document) => collection.insertOne(document as Parameters<Collection<T>['insertOne']>[0])));
  const counted: Counted = { inserted: 0, duplicates: 0, other: [] };
  for (const result of results) {
    if (result.status === 'fulfilled') counted.inserted += 1;
    else if (result.reason instanceof MongoServerError && result.reason.code === duplicateKey) counted.duplicates += 1;
    else counted.other.push(result.reason);
  }
  return counted;
}

describe('FerretDB built by the infra script', () => {
  let database: RunningFerretDb;
  let client: MongoClient;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const dir = await temporaryDir('ferretdb-test');
    const logs = fileLogSink('ferretdb-test');
    database = await startFerretDb(
      { name: 'ferretdb', binary: await ferretDbBinaryPath(), dataDir: dir.path, host: '127.0.0.1', port: await findFreePort(), debugPort: await findFreePort() },
      logs.sink,
    );
    client = new MongoClient(database.url, { useBigInt64: true, maxPoolSize: racers });
    cleanup = async () => {
      await client.close();
      await database.process.stop();
      await logs.close();
      await dir.remove();
    };
  });

  afterAll(async () => {
    await cleanup?.();
  });

  test('when a document is written, then it reads back with 64-bit integers intact', async () => {
    const collection = client.db('foundation').collection<{ _id: string; balanceMinor: bigint }>('roundtrip');
    await collection.insertOne({ _id: 'account-1', balanceMinor: 9_007_199_254_740_993n });
    expect(await collection.findOne({ _id: 'account-1' })).toEqual({ _id: 'account-1', balanceMinor: 9_007_199_254_740_993n });
  });

  test('when a unique index is violated, then the insert fails with a duplicate-key error', async () => {
    const collection = client.db('foundation').collection<{ _id: string; operationId: string }>('unique_single');
    await collection.createIndex({ operationId: 1 }, { unique: true });
    await collection.insertOne({ _id: 'a', operationId: 'transfer-1:debit' });
    const error = await collection.insertOne({ _id: 'b', operationId: 'transfer-1:debit' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(duplicateKey);
    expect(await collection.countDocuments({})).toBe(1);
  });

  test(`when ${racers} concurrent inserts share one _id, then exactly one succeeds`, async () => {
    const collection = client.db('foundation').collection<{ _id: string; racer: number }>('race_id');
    const counted = await raceInserts(collection, Array.from({ length: racers }, (_, racer) => ({ _id: 'account-1:1', racer })));
    expect(counted).toEqual({ inserted: 1, duplicates: racers - 1, other: [] });
    expect(await collection.countDocuments({})).toBe(1);
  });

  test(`when ${racers} concurrent inserts share one value of a unique compound index, then exactly one succeeds`, async () => {
    const collection = client.db('foundation').collection<{ _id: string; accountId: string; operationId: string }>('race_compound');
    await collection.createIndex({ accountId: 1, operationId: 1 }, { unique: true });
    const counted = await raceInserts(
      collection,
      Array.from({ length: racers }, (_, racer) => ({ _id: `account-1:${racer}`, accountId: 'account-1', operationId: 'transfer-7:debit' })),
    );
    expect(counted).toEqual({ inserted: 1, duplicates: racers - 1, other: [] });
    expect(await collection.countDocuments({})).toBe(1);
  });
});
