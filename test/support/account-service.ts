import { MongoClient, type Db } from 'mongodb';
import { ferretDbBinaryPath } from '../../infra/binaries';
import { findFreePort } from '../../infra/ports';
import { startFerretDb, type RunningFerretDb } from '../../infra/processes/ferretdb';
import type { ManagedProcess } from '../../infra/processes/managed-process';
import { startNodeService } from '../../infra/processes/node-service';
import { AccountServiceClient, type AccountServiceResponse } from '../../lib/clients/account-service-client';
import { signRequest, type SigningKey } from '../../lib/crypto/request-signing';
import { fileLogSink, temporaryDir } from './cluster';
import { http, type HttpAnswer } from './http';

/** Tests compare answers whole; the headers (a Date among them) would differ between two equal answers. */
const statusAndBody = ({ status, body }: AccountServiceResponse): AccountServiceResponse => ({ status, body });

export const testSigningKey: SigningKey = { keyId: 'test-1', secret: 't'.repeat(40) };

/** One bank node for tests: a real FerretDB and the account service as a real process. */
export interface AccountServiceFixture {
  bankId: string;
  url: string;
  db: Db;
  call: (method: 'GET' | 'POST', path: string, body?: unknown) => Promise<AccountServiceResponse>;
  /** A POST signed with another key, for scope tests: the whole HTTP answer (status, headers, text). */
  sendAs: (key: SigningKey, path: string, payload: unknown) => Promise<HttpAnswer>;
  /** Starts another account-service process on the same database, as production runs several. */
  startSecondProcess: () => Promise<{ url: string; call: AccountServiceFixture['call'] }>;
  /** kill -9 of the service process. */
  kill: () => Promise<void>;
  /** Starts the service again on the same port and database, with some variables changed (e.g. TEST_CLOCK_OFFSET_MS). */
  restart: (changedEnv?: Record<string, string>) => Promise<void>;
  stop: () => Promise<void>;
}

export async function startAccountServiceFixture(name: string, bankId = 'bank-a', extraEnv: Record<string, string> = {}): Promise<AccountServiceFixture> {
  const dir = await temporaryDir(name);
  const logs = fileLogSink(name);
  const database: RunningFerretDb = await startFerretDb(
    { name: 'ferretdb', binary: await ferretDbBinaryPath(), dataDir: dir.path, host: '127.0.0.1', port: await findFreePort(), debugPort: await findFreePort() },
    logs.sink,
  );
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  let env: Record<string, string> = {
    BANK_ID: bankId,
    PORT: String(port),
    MONGODB_URL: database.url,
    DATABASE_NAME: 'ledger_test',
    SERVICE_KEYS: `${testSigningKey.keyId}:${testSigningKey.secret},old-key:${'o'.repeat(40)}`,
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const start = (): Promise<ManagedProcess> => startNodeService({ name: 'account-service', entry: 'services/account-service/main.ts', env, readyUrl: `${url}/readyz` }, logs.sink);
  let service = await start();
  const others: ManagedProcess[] = [];
  const mongo = new MongoClient(database.url, { useBigInt64: true });
  const client = new AccountServiceClient({ bankId, baseUrl: url, signingKey: testSigningKey, requestTimeoutMs: 30_000 });
  return {
    bankId,
    url,
    db: mongo.db('ledger_test'),
    call: async (method, path, body) => statusAndBody(await client.request(method, path, body)),
    sendAs: (key, path, payload) => {
      const body = JSON.stringify(payload);
      const signature = signRequest(key, { bankId, method: 'POST', pathWithQuery: path, body });
      return http(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-signature': signature } });
    },
    startSecondProcess: async () => {
      const otherPort = await findFreePort();
      const otherUrl = `http://127.0.0.1:${otherPort}`;
      others.push(await startNodeService({ name: 'account-service-2', entry: 'services/account-service/main.ts', env: { ...env, PORT: String(otherPort) }, readyUrl: `${otherUrl}/readyz` }, logs.sink));
      const otherClient = new AccountServiceClient({ bankId, baseUrl: otherUrl, signingKey: testSigningKey, requestTimeoutMs: 30_000 });
      return { url: otherUrl, call: async (method, path, body) => statusAndBody(await otherClient.request(method, path, body)) };
    },
    kill: async () => {
      await service.kill();
    },
    restart: async (changedEnv = {}) => {
      if (service.running) await service.stop();
      env = { ...env, ...changedEnv };
      service = await start();
    },
    stop: async () => {
      await mongo.close();
      await Promise.all(others.map((other) => other.stop()));
      await service.stop();
      await database.process.stop();
      await logs.close();
      await dir.remove();
    },
  };
}
