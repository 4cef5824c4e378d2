import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { ferretDbBinaryPath } from '../../../infra/binaries';
import { findFreePort } from '../../../infra/ports';
import { startFerretDb, type RunningFerretDb } from '../../../infra/processes/ferretdb';
import { fileLogSink, temporaryDir } from '../../support/cluster';

jest.setTimeout(60_000);

const run = promisify(execFile);

/** The expression FerretDB v1.24.2 creates its `_id` index on, and the one the patch makes its queries use. */
const indexedIdExpression = '_ferretdb_sjson->"_id"';
/** The expression the unpatched build filters by; SQLite cannot match it to the index. */
const unpatchedIdExpression = "_ferretdb_sjson->'$._id'";

async function queryPlan(sqliteFile: string, table: string, expression: string): Promise<string> {
  const sql = `EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "${table}" WHERE ${expression} = '"account-1:42"';`;
  const { stdout } = await run('sqlite3', ['-readonly', sqliteFile, sql]);
  return stdout;
}

describe('FerretDB _id look-ups (infra/ferretdb-id-index.patch)', () => {
  let database: RunningFerretDb;
  let dataDir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const dir = await temporaryDir('ferretdb-index');
    const logs = fileLogSink('ferretdb-index');
    dataDir = dir.path;
    database = await startFerretDb(
      { name: 'ferretdb', binary: await ferretDbBinaryPath(), dataDir, host: '127.0.0.1', port: await findFreePort(), debugPort: await findFreePort() },
      logs.sink,
    );
    const client = new MongoClient(database.url);
    await client
      .db('indexcheck')
      .collection<{ _id: string; n: number }>('entries')
      .insertMany(Array.from({ length: 100 }, (_, n) => ({ _id: `account-1:${n}`, n })));
    await client.close();
    cleanup = async () => {
      await database.process.stop();
      await logs.close();
      await dir.remove();
    };
  });

  afterAll(async () => {
    await cleanup?.();
  });

  async function entriesTable(): Promise<{ file: string; table: string }> {
    const file = join(dataDir, 'indexcheck.sqlite');
    const { stdout } = await run('sqlite3', ['-readonly', file, `SELECT table_name FROM _ferretdb_collections WHERE name = 'entries';`]);
    return { file, table: stdout.trim() };
  }

  test('when SQLite plans a filter on the patched _id expression, then it searches the _id index', async () => {
    const { file, table } = await entriesTable();
    expect(table).not.toBe('');
    const plan = await queryPlan(file, table, indexedIdExpression);
    expect(plan).toMatch(/SEARCH .* USING INDEX/);
  });

  test('when SQLite plans a filter on the unpatched expression, then it scans the whole table', async () => {
    const { file, table } = await entriesTable();
    const plan = await queryPlan(file, table, unpatchedIdExpression);
    expect(plan).toMatch(/SCAN/);
    expect(plan).not.toMatch(/USING INDEX/);
  });

  test('when the binary was built, then it carries the patched _id expression', async () => {
    const binary = await readFile(await ferretDbBinaryPath());
    expect(binary.includes(Buffer.from(indexedIdExpression))).toBe(true);
  });
});
