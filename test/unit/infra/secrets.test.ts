import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceKeysSchema } from '../../../lib/config/env-parsers';
import { formatServiceKeys, generateServiceKeys, loadOrCreateSecrets, settlementServiceKeys, signingKeyOf } from '../../../infra/secrets';

describe("the launcher's secrets", () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'secrets-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test('when a data folder has no keys, then one scoped service key per caller is generated there (mode 0600) and the next start reuses them', async () => {
    const first = await loadOrCreateSecrets(dataDir, {});
    const path = join(dataDir, 'secrets', 'service-keys.json');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(first.folder).toBe(join(dataDir, 'secrets'));
    expect(first.serviceKeys.map((key) => [key.caller, key.keyId, key.scopes])).toEqual([
      ['worker', 'worker-1', ['ledger']],
      ['transfer-api', 'transfer-api-1', ['admin', 'read']],
      ['reconciliation', 'reconciliation-1', ['read']],
    ]);
    expect(new Set(first.serviceKeys.map((key) => key.secret)).size).toBe(3);
    for (const key of first.serviceKeys) expect(key.secret.length).toBeGreaterThanOrEqual(32);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(first.serviceKeys);
    const parsed = serviceKeysSchema.parse(formatServiceKeys(first.serviceKeys));
    expect(parsed.map((key) => [key.keyId, [...key.scopes]])).toEqual(first.serviceKeys.map((key) => [key.keyId, key.scopes]));
    const second = await loadOrCreateSecrets(dataDir, {});
    expect(second.serviceKeys).toEqual(first.serviceKeys);
    expect(second.authorityKeys).toEqual(first.authorityKeys);
    expect(second.authorityKeys).toHaveLength(1);
    expect(first.apiKeys.map((key) => [key.name, key.role])).toEqual([['operator', 'operator'], ['operator-2', 'operator'], ['client-a', 'client']]);
  });

  test('when a caller rotates (a new key first in the file, the old one after it), then the caller signs with the new one and both are accepted', async () => {
    const first = await loadOrCreateSecrets(dataDir, {});
    const path = join(dataDir, 'secrets', 'service-keys.json');
    const rotated = [{ caller: 'worker', keyId: 'worker-2', secret: 'n'.repeat(32), scopes: ['ledger'] }, ...first.serviceKeys];
    await writeFile(path, JSON.stringify(rotated));
    const second = await loadOrCreateSecrets(dataDir, {});
    expect(signingKeyOf(second, 'worker')).toEqual({ keyId: 'worker-2', secret: 'n'.repeat(32) });
    expect(formatServiceKeys(second.serviceKeys)).toContain('worker-1:');
    expect(formatServiceKeys(second.serviceKeys)).toContain(`worker-2:${'n'.repeat(32)}:ledger`);
  });

  test('when a data folder holds the old shared key and an API key file without a second operator, then per-caller keys replace the shared one and operator-2 is added', async () => {
    await mkdir(join(dataDir, 'secrets'), { recursive: true });
    await writeFile(join(dataDir, 'secrets', 'service-keys.json'), JSON.stringify([{ keyId: 'local-1', secret: 's'.repeat(43) }]));
    await writeFile(join(dataDir, 'secrets', 'api-keys.json'), JSON.stringify([{ name: 'operator', role: 'operator', key: `op_${'o'.repeat(32)}` }]));
    const secrets = await loadOrCreateSecrets(dataDir, {});
    expect(secrets.serviceKeys.map((key) => key.keyId)).toEqual(['worker-1', 'transfer-api-1', 'reconciliation-1']);
    expect(secrets.apiKeys.map((key) => key.name)).toEqual(['operator', 'operator-2', 'client-a']);
    expect(secrets.apiKeys[0]?.key).toBe(`op_${'o'.repeat(32)}`);
  });

  test('when the settlement bank\'s keys are made, then they are the callers\' own, the API\'s with `ledger` added once, and the given keys are left as they were', () => {
    const serviceKeys = generateServiceKeys();
    const before = structuredClone(serviceKeys);
    const settlement = settlementServiceKeys({ serviceKeys });
    expect(serviceKeys).toEqual(before);
    expect(settlement.map((key) => [key.keyId, key.secret, key.scopes])).toEqual([
      ['worker-1', serviceKeys[0]?.secret, ['ledger', 'read', 'admin']],
      ['transfer-api-1', serviceKeys[1]?.secret, ['admin', 'read', 'ledger']],
      ['reconciliation-1', serviceKeys[2]?.secret, ['read']],
    ]);
    expect(settlementServiceKeys({ serviceKeys: settlement })).toEqual(settlement);
    // A rotation keeps both of the API's keys, each with `ledger`.
    const rotated = [{ ...serviceKeys[1], keyId: 'transfer-api-2', secret: 'r'.repeat(32) } as (typeof serviceKeys)[number], ...serviceKeys];
    expect(settlementServiceKeys({ serviceKeys: rotated }).filter((key) => key.caller === 'transfer-api').map((key) => [key.keyId, key.scopes])).toEqual([
      ['transfer-api-2', ['admin', 'read', 'ledger']],
      ['transfer-api-1', ['admin', 'read', 'ledger']],
    ]);
  });
});
