import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatServiceKeys, loadOrCreateSecrets } from '../../../infra/secrets';

describe("the launcher's secrets", () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'secrets-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test('when a data folder has no keys, then a service key is generated there (mode 0600) and the next start reuses it', async () => {
    const first = await loadOrCreateSecrets(dataDir, {});
    const path = join(dataDir, 'secrets', 'service-keys.json');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(first.folder).toBe(join(dataDir, 'secrets'));
    expect(first.serviceKeys).toHaveLength(1);
    expect(first.serviceKeys[0]?.secret.length).toBeGreaterThanOrEqual(32);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(first.serviceKeys);
    const second = await loadOrCreateSecrets(dataDir, {});
    expect(second.serviceKeys).toEqual(first.serviceKeys);
  });

  test('when SERVICE_KEYS is set in the environment, then those keys are used, in order, and no service key file is written', async () => {
    const fromEnv = `new-1:${'n'.repeat(32)},old-1:${'o'.repeat(32)}`;
    const secrets = await loadOrCreateSecrets(dataDir, { serviceKeys: fromEnv });
    expect(formatServiceKeys(secrets.serviceKeys)).toBe(fromEnv);
    await expect(stat(join(dataDir, 'secrets', 'service-keys.json'))).rejects.toThrow(/ENOENT/);
  });
});
