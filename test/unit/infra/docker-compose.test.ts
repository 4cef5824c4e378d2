import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { parse } from 'yaml';
import { composeReplicaSet, composeSettlementBank, generateComposeSecrets, serviceKeyFiles, writeMissingComposeSecrets } from '../../../infra/docker/compose-secrets';
import { serviceKeysSchema } from '../../../lib/config/env-parsers';
import { localPlanFromEnv } from '../../../infra/local-plan';
import { namespaceRetentionHoursDefault } from '../../../infra/processes/temporal-dev-server';
import { temporalServerVersion } from '../../../infra/cluster-binaries';
import { temporalDatabases, temporalServerEnv, temporalServiceNames, type TemporalClusterOptions } from '../../../infra/processes/temporal-cluster';
import * as accountService from '../../../services/account-service/config';
import * as codecServer from '../../../services/codec-server/config';
import * as temporalSetup from '../../../services/temporal-setup/config';
import * as transferApi from '../../../services/transfer-api/config';
import * as worker from '../../../services/worker/config';

const projectRoot = join(__dirname, '..', '..', '..');
/** The four Temporal services of compose: the frontend is `temporal`, as in the launcher's cluster profile. */
const temporalServerServices = ['temporal', 'temporal-history', 'temporal-matching', 'temporal-worker'];
const packageVersion = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
const readProjectFile = (path: string): string => readFileSync(join(projectRoot, path), 'utf8');

type SecretEntry = string | { source: string; target?: string };

interface ComposeService {
  image?: string;
  build?: unknown;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  restart?: string;
  ports?: string[];
  volumes?: string[];
  secrets?: SecretEntry[];
  networks?: string[];
}

interface Compose {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
  networks: Record<string, { internal?: boolean } | null>;
  secrets: Record<string, { file: string }>;
}

/** Compose's variable interpolation: ${NAME}, ${NAME:-default}, ${NAME:?error}, $$. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}/g, (whole, name: string | undefined, operator: string | undefined, argument: string | undefined) => {
    if (whole === '$$') return '$';
    const found = env[name as string];
    if (operator?.endsWith('?') && (found === undefined || found === '')) throw new Error(`compose requires ${name}: ${argument}`);
    if (operator?.endsWith('-') && (found === undefined || found === '')) return argument ?? '';
    return found ?? '';
  });
}

const composeText = readProjectFile('docker-compose.yml');
const compose = parse(composeText, { merge: true }) as Compose;
const services = compose.services;

/** The secret files, generated as an operator would and written where the test's mounts point. */
const sampleSecrets = generateComposeSecrets();
const secretsDir = mkdtempSync(join(tmpdir(), 'compose-secrets-'));
for (const [name, content] of Object.entries(sampleSecrets)) writeFileSync(join(secretsDir, name), `${content}\n`);
afterAll(() => rmSync(secretsDir, { recursive: true, force: true }));

/** Where a service's secrets appear in its container: /run/secrets/<target> → the secret's name. */
function secretMounts(name: string): Map<string, string> {
  const mounts = new Map<string, string>();
  for (const entry of services[name]?.secrets ?? []) {
    const source = typeof entry === 'string' ? entry : entry.source;
    const target = typeof entry === 'string' ? entry : (entry.target ?? entry.source);
    mounts.set(target.startsWith('/') ? target : `/run/secrets/${target}`, source);
  }
  return mounts;
}

const secretsOf = (name: string): string[] => [...secretMounts(name).values()].sort();

/** The service's environment as its container sees it, with each mounted secret path pointing at the test's file. */
function environmentOf(name: string, settings: Record<string, string> = {}): Record<string, string> {
  const mounts = secretMounts(name);
  const environment = Object.entries(services[name]?.environment ?? {}).map(([key, value]): [string, string] => {
    const interpolated = interpolate(String(value), settings);
    const source = mounts.get(interpolated);
    return [key, source === undefined ? interpolated : join(secretsDir, source)];
  });
  return Object.fromEntries(environment);
}

/** Settings as .env.example writes them. */
function exampleSettings(): Record<string, string> {
  const lines = readProjectFile('.env.example').split('\n').filter((line) => /^[A-Z0-9_]+=/.test(line));
  return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

/** Variables a project process's environment may carry beside its own: read by the image's health check. */
const imageVariables = new Set(['HEALTHCHECK_URL']);

/** A variable is known to a service when its schema has it, or has NAME for NAME_FILE (lib/config/env-parsers resolveFileVariables). */
function unknownVariables(env: Record<string, string>, schema: z.ZodObject): string[] {
  const known = new Set(Object.keys(schema.shape));
  return Object.keys(env).filter((variable) => !known.has(variable) && !known.has(variable.replace(/_FILE$/, '')) && !imageVariables.has(variable));
}

interface ProjectService {
  entry: string;
  /** The loader main.ts calls at start-up, and the schema it validates. */
  config: { loadConfig: (env: NodeJS.ProcessEnv) => unknown; envSchema: z.ZodObject };
  /** Where Prometheus scrapes it: the variable holding its metrics port, if it has one. */
  metricsPortVariable?: string;
}

/** Every service built from the Dockerfile, with the configuration its code validates. One line per service. */
const projectServices: Record<string, ProjectService> = {
  'account-service-bank-a': { entry: 'services/account-service/main.ts', config: accountService, metricsPortVariable: 'PORT' },
  'account-service-bank-b': { entry: 'services/account-service/main.ts', config: accountService, metricsPortVariable: 'PORT' },
  'account-service-bank-c': { entry: 'services/account-service/main.ts', config: accountService, metricsPortVariable: 'PORT' },
  'account-service-settlement': { entry: 'services/account-service/main.ts', config: accountService, metricsPortVariable: 'PORT' },
  worker: { entry: 'services/worker/main.ts', config: worker, metricsPortVariable: 'WORKER_METRICS_PORT' },
  'transfer-api': { entry: 'services/transfer-api/main.ts', config: transferApi, metricsPortVariable: 'PORT' },
  'temporal-setup': { entry: 'services/temporal-setup/main.ts', config: temporalSetup },
  'codec-server': { entry: 'services/codec-server/main.ts', config: codecServer, metricsPortVariable: 'CODEC_SERVER_PORT' },
};

const banks = ['bank-a', 'bank-b', 'bank-c'];
/** The settlement bank: a node like the banks' (its own MongoDB, init job and account service), and no participant. */
const settlementBank = 'settlement';
/** Every node with a ledger database: the banks and the settlement bank. */
const ledgerNodes = [...banks, settlementBank];
/** The secret file with a node's SERVICE_KEYS: the settlement bank's has the API's key with `ledger` too. */
const serviceKeysSecretOf = (node: string): string => (node === settlementBank ? 'settlement-service-keys' : 'account-service-keys');

/** The secrets each service may mount, and no other; a service not listed mounts none. */
const secretsByService: Record<string, string[]> = {
  'temporal-postgresql': ['temporal-db-password'],
  'temporal-schema': ['temporal-db-password'],
  temporal: ['temporal-db-password'],
  'temporal-history': ['temporal-db-password'],
  'temporal-matching': ['temporal-db-password'],
  'temporal-worker': ['temporal-db-password'],
  'temporal-ui': ['codec-server-token'],
  ...Object.fromEntries(
    ledgerNodes.flatMap((node) => [
      [`mongodb-${node}`, [`mongodb-${node}-keyfile`, `mongodb-${node}-root-password`]],
      [`mongodb-${node}-init`, [`account-service-${node}-mongodb-url`, `mongodb-${node}-root-password`]],
      [`account-service-${node}`, [serviceKeysSecretOf(node), `account-service-${node}-mongodb-url`]],
    ]),
  ),
  'mongodb-transfer-api': ['mongodb-transfer-api-keyfile', 'mongodb-transfer-api-root-password'],
  'mongodb-transfer-api-init': ['mongodb-transfer-api-root-password', 'transfer-api-mongodb-url', 'worker-mongodb-url'],
  worker: ['payload-codec-keys', 'reconciliation-signing-key', 'transfer-authority-keys', 'worker-mongodb-url', 'worker-service-signing-key'],
  'transfer-api': ['payload-codec-keys', 'transfer-api-keys', 'transfer-api-mongodb-url', 'transfer-api-service-signing-key', 'transfer-authority-keys'],
  'codec-server': ['codec-server-token', 'payload-codec-keys'],
  grafana: ['grafana-admin-password'],
};

/** Each data network and everything on it: a database server, its init job and the services whose data it holds. */
const dataNetworks: Record<string, string[]> = {
  ...Object.fromEntries(ledgerNodes.map((node) => [`${node}-data`, [`mongodb-${node}`, `mongodb-${node}-init`, `account-service-${node}`]])),
  'transfer-api-data': ['mongodb-transfer-api', 'mongodb-transfer-api-init', 'worker', 'transfer-api'],
  'temporal-data': ['temporal-postgresql', 'temporal-schema', 'temporal', 'temporal-history', 'temporal-matching', 'temporal-worker'],
};

/** What operators open, each on 127.0.0.1 only; nothing else publishes a port. */
const publishedPorts: Record<string, string[]> = {
  temporal: ['127.0.0.1:7233:7233'],
  'temporal-ui': ['127.0.0.1:8233:8080'],
  'transfer-api': ['127.0.0.1:3000:3000'],
  'codec-server': ['127.0.0.1:8234:8234'],
  prometheus: ['127.0.0.1:9090:9090'],
  grafana: ['127.0.0.1:3001:3000'],
};

const mongodbServers = Object.keys(services).filter((name) => services[name]?.command?.[0] === 'mongod');
const membersOf = (network: string): string[] => Object.keys(services).filter((name) => services[name]?.networks?.includes(network)).sort();
const argumentAfter = (args: string[] | undefined, flag: string): string | undefined => args?.[args.indexOf(flag) + 1];

describe('docker-compose.yml: project services', () => {
  test('when the services built from the Dockerfile are listed, then each is in the table of project services and the other way round', () => {
    const built = Object.entries(services).filter(([, service]) => service.build !== undefined).map(([name]) => name);
    expect(built.sort()).toEqual(Object.keys(projectServices).sort());
  });

  test.each(Object.entries(projectServices))('when %s starts with its compose environment and secret files, then its configuration loader accepts them and it knows every variable', (name, project) => {
    for (const settings of [{}, exampleSettings()]) {
      const env = environmentOf(name, settings);
      expect(() => project.config.loadConfig(env)).not.toThrow();
      expect(unknownVariables(env, project.config.envSchema)).toEqual([]);
    }
    expect(services[name]?.command).toEqual(['node', '--enable-source-maps', '--import', 'tsx', project.entry]);
    expect(existsSync(join(projectRoot, project.entry))).toBe(true);
  });

  test('when a secret file is missing, then the service refuses to start and names the variable', () => {
    const env = { ...environmentOf('account-service-bank-a'), SERVICE_KEYS_FILE: join(secretsDir, 'no-such-file') };
    expect(() => accountService.loadConfig(env)).toThrow(/Invalid SERVICE_KEYS_FILE: cannot read/);
  });

  test('when the account services start, then each serves its own bank, and the worker and the API sign with keys of their own that every account service accepts', () => {
    const directory = new Map<string, string>();
    const accepted = new Set<string>();
    for (const bank of banks) {
      const config = accountService.loadConfig(environmentOf(`account-service-${bank}`));
      expect(config.bankId).toBe(bank);
      directory.set(bank, `http://account-service-${bank}:${config.port}`);
      for (const [keyId, key] of config.serviceKeys) accepted.add(`${keyId}:${key.secret}:${[...key.scopes].sort().join('|')}`);
    }
    const workerConfig = worker.loadConfig(environmentOf('worker'));
    const apiConfig = transferApi.loadConfig(environmentOf('transfer-api'));
    for (const config of [workerConfig, apiConfig]) {
      expect(new Map(config.banks.map((bank) => [bank.bankId, bank.url]))).toEqual(directory);
      expect(config.temporal.address).toBe('temporal:7233');
    }
    const scoped = (key: { keyId: string; secret: string }, scopes: string) => `${key.keyId}:${key.secret}:${scopes}`;
    expect([...accepted].sort()).toEqual([scoped(workerConfig.signingKey, 'ledger'), scoped(apiConfig.signingKey, 'admin|read'), scoped(workerConfig.reconciliationSigningKey, 'read')].sort());
    expect([workerConfig.signingKey.keyId, workerConfig.reconciliationSigningKey.keyId, apiConfig.signingKey.keyId]).toEqual(['worker-1', 'reconciliation-1', 'transfer-api-1']);
    expect(apiConfig.authorityKeys).toEqual(workerConfig.authorityKeys);
    expect(apiConfig.host).toBe('0.0.0.0');
    expect(workerConfig.metricsBindAddress).toBe('0.0.0.0:9464');
  });

  test('when the worker and the API start, then both reach the settlement bank by its service name and id, and wait until it is healthy', () => {
    const node = accountService.loadConfig(environmentOf('account-service-settlement'));
    expect(node.bankId).toBe(composeSettlementBank);
    expect(composeSettlementBank).toBe(settlementBank);
    const expected = { bankId: node.bankId, url: `http://account-service-settlement:${node.port}` };
    const workerConfig = worker.loadConfig(environmentOf('worker'));
    const apiSettlement = transferApi.loadConfig(environmentOf('transfer-api')).settlement;
    expect(workerConfig.settlementBank).toEqual(expected);
    expect({ bankId: apiSettlement?.bankId, url: apiSettlement?.url }).toEqual(expected);
    expect(workerConfig.banks.map((bank) => bank.bankId)).not.toContain(node.bankId);
    for (const client of ['worker', 'transfer-api']) {
      expect({ client, condition: services[client]?.depends_on?.['account-service-settlement']?.condition }).toEqual({ client, condition: 'service_healthy' });
    }
  });

  test('when the settlement settings are unset, then compose passes the loader\'s own defaults, and each setting reaches the API', () => {
    const withoutSettings = Object.fromEntries(Object.entries(environmentOf('transfer-api')).filter(([variable]) => !/^SETTLEMENT_(MODEL|CURRENCIES|OPENING_)/.test(variable)));
    expect(transferApi.loadConfig(environmentOf('transfer-api')).settlement).toEqual(transferApi.loadConfig(withoutSettings).settlement);
    expect(transferApi.loadConfig(environmentOf('transfer-api')).settlement?.model).toBe('deferred-net');
    const tuned = transferApi.loadConfig(
      environmentOf('transfer-api', { SETTLEMENT_MODEL: 'immediate-gross', SETTLEMENT_CURRENCIES: 'EUR,USD', SETTLEMENT_OPENING_RESERVE_MINOR: '5000', SETTLEMENT_OPENING_NET_DEBIT_CAP_MINOR: '4000' }),
    ).settlement;
    expect(tuned).toMatchObject({ model: 'immediate-gross', currencies: ['EUR', 'USD'], openingReserveMinor: 5000n, openingNetDebitCapMinor: 4000n });
    expect(() => transferApi.loadConfig(environmentOf('transfer-api', { SETTLEMENT_MODEL: 'gross-ish' }))).toThrow(/SETTLEMENT_MODEL/);
  });

  test('when the API starts, then four eyes is on by default, and CLIENT_MANDATES reaches it and is checked against its client keys', () => {
    expect(transferApi.loadConfig(environmentOf('transfer-api')).approvalFourEyes).toBe(true);
    expect(transferApi.loadConfig(environmentOf('transfer-api', { APPROVAL_FOUR_EYES: 'false' })).approvalFourEyes).toBe(false);
    const mandated = transferApi.loadConfig(environmentOf('transfer-api', { CLIENT_MANDATES: 'client-a=bank-a|bank-b' }));
    expect([...mandated.clientMandates.keys()]).toEqual(['client-a']);
    expect(() => transferApi.loadConfig(environmentOf('transfer-api', { CLIENT_MANDATES: 'client-z=bank-a' }))).toThrow(/CLIENT_MANDATES/);
  });

  test('when Prometheus scrapes, then every project process with metrics is a target on the port its configuration sets', () => {
    const prometheus = parse(readProjectFile('infra/prometheus/prometheus.yml')) as { scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> };
    const targets = new Set(prometheus.scrape_configs.flatMap((job) => job.static_configs.flatMap((group) => group.targets)));
    for (const [name, project] of Object.entries(projectServices)) {
      if (!project.metricsPortVariable) continue;
      expect({ name, scraped: targets.has(`${name}:${environmentOf(name)[project.metricsPortVariable]}`) }).toEqual({ name, scraped: true });
      expect({ name, reachable: services[name]?.networks?.includes('backend') }).toEqual({ name, reachable: true });
    }
    for (const server of temporalServerServices) {
      expect({ server, scraped: targets.has(`${server}:${String(environmentOf(server).TEMPORAL_PROMETHEUS_ADDRESS).split(':')[1]}`), reachable: services[server]?.networks?.includes('backend') }).toEqual({ server, scraped: true, reachable: true });
    }
    expect(services.prometheus?.networks).toContain('backend');
    expect(services.prometheus?.volumes).toContain('./infra/prometheus:/etc/prometheus:ro');
    expect(services.grafana?.volumes).toEqual(expect.arrayContaining(['./infra/grafana/provisioning:/etc/grafana/provisioning:ro', './infra/grafana/dashboards:/var/lib/grafana/dashboards:ro']));
  });
});

describe('docker-compose.yml: secrets', () => {
  test('when the secrets are declared, then each is a file under ./secrets/, the generator writes exactly these files, and both READMEs name every one', () => {
    const declared = Object.keys(compose.secrets).sort();
    expect(declared).toEqual(Object.keys(sampleSecrets).sort());
    for (const name of declared) expect(compose.secrets[name]).toEqual({ file: `./secrets/${name}` });
    expect(serviceKeyFiles.every((name) => declared.includes(name))).toBe(true);
    const readme = readProjectFile('README.md');
    const secretsReadme = readProjectFile('secrets/README.md');
    for (const name of declared) expect({ name, readme: readme.includes(name), secretsReadme: secretsReadme.includes(`\`${name}\``) }).toEqual({ name, readme: true, secretsReadme: true });
  });

  test('when the key files are generated, then the settlement bank\'s grants the API `ledger` (funds-out debits a reserve) and the worker `read` and `admin` (window settlement), the banks\' neither; the other keys are the same in both', () => {
    const scopesByKey = (file: string) => new Map(serviceKeysSchema.parse(sampleSecrets[file]).map((key) => [`${key.keyId}:${key.secret}`, [...key.scopes].sort()]));
    const atBanks = scopesByKey('account-service-keys');
    const atSettlement = scopesByKey('settlement-service-keys');
    expect([...atSettlement.keys()]).toEqual([...atBanks.keys()]);
    const apiKey = formatSigningKeyOf(sampleSecrets['transfer-api-service-signing-key']);
    expect(atBanks.get(apiKey)).toEqual(['admin', 'read']);
    expect(atSettlement.get(apiKey)).toEqual(['admin', 'ledger', 'read']);
    const workerKey = formatSigningKeyOf(sampleSecrets['worker-service-signing-key']);
    expect(atBanks.get(workerKey)).toEqual(['ledger']);
    expect(atSettlement.get(workerKey)).toEqual(['admin', 'ledger', 'read']);
    for (const [key, scopes] of atBanks) if (key !== apiKey && key !== workerKey) expect(atSettlement.get(key)).toEqual(scopes);
    // Reconciliation reads the settlement bank with the banks, with the same read-only key.
    const reconciliationKey = formatSigningKeyOf(sampleSecrets['reconciliation-signing-key']);
    expect([atBanks.get(reconciliationKey), atSettlement.get(reconciliationKey)]).toEqual([['read'], ['read']]);
    expect(serviceKeyFiles).toEqual(expect.arrayContaining(['account-service-keys', 'settlement-service-keys']));
    // What each node accepts from the API, as its account service loads its key file.
    const apiKeyId = apiKey.split(':')[0] as string;
    for (const node of ledgerNodes) {
      const scopes = [...(accountService.loadConfig(environmentOf(`account-service-${node}`)).serviceKeys.get(apiKeyId)?.scopes ?? [])];
      expect({ node, ledger: scopes.includes('ledger') }).toEqual({ node, ledger: node === settlementBank });
    }
  });

  test('when the generator runs, then it writes the missing files readable by the containers in a private folder, keeps existing ones, and refuses half a set of service keys', async () => {
    const folder = join(secretsDir, 'generated');
    expect((await writeMissingComposeSecrets(folder)).written.sort()).toEqual(Object.keys(sampleSecrets).sort());
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(statSync(join(folder, 'account-service-keys')).mode & 0o777).toBe(0o644);
    const tokenBefore = readFileSync(join(folder, 'codec-server-token'), 'utf8');
    unlinkSync(join(folder, 'transfer-api-keys'));
    expect(await writeMissingComposeSecrets(folder)).toEqual({ written: ['transfer-api-keys'], kept: expect.any(Array) });
    expect(readFileSync(join(folder, 'codec-server-token'), 'utf8')).toBe(tokenBefore);
    unlinkSync(join(folder, 'worker-service-signing-key'));
    await expect(writeMissingComposeSecrets(folder)).rejects.toThrow(/service key files belong together/);
  });

  test.each(Object.keys(services))('when %s starts, then it mounts exactly the secrets it uses', (name) => {
    expect(secretsOf(name)).toEqual([...(secretsByService[name] ?? [])].sort());
  });

  test('when a secret is used, then it comes from a mounted file: no environment names a secret by value and no URL carries credentials', () => {
    const secretLike = /(PASSWORD|PWD|SECRET|TOKEN|KEYS?|MONGODB_URL)$/;
    for (const name of Object.keys(services)) {
      const mounted = secretMounts(name);
      for (const [variable, value] of Object.entries(services[name]?.environment ?? {})) {
        const base = variable.replace(/(__FILE|_FILE|_FILES)$/, '');
        const text = String(value);
        expect({ name, variable, credentials: /:\/\/[^/\s]*@/.test(text) }).toEqual({ name, variable, credentials: false });
        if (!secretLike.test(base)) continue;
        expect({ name, variable, fromFile: base !== variable }).toEqual({ name, variable, fromFile: true });
        for (const path of text.split(',')) expect({ name, variable, mounted: mounted.has(path) }).toEqual({ name, variable, mounted: true });
      }
    }
  });
});

describe('docker-compose.yml: MongoDB', () => {
  test('when the MongoDB servers are listed, then there is one per bank, one for the settlement bank and one for the transfer API', () => {
    expect(mongodbServers.sort()).toEqual([...ledgerNodes.map((node) => `mongodb-${node}`), 'mongodb-transfer-api'].sort());
  });

  test.each(mongodbServers)('when %s starts, then it requires authentication, runs as a replica set with a key file of its own and creates its root user from a secret', (name) => {
    const service = services[name] as ComposeService;
    expect(service.command).toEqual(expect.arrayContaining(['--auth', '--replSet', '--keyFile']));
    expect(argumentAfter(service.command, '--replSet')).toBe(composeReplicaSet);
    const keyFile = argumentAfter(service.command, '--keyFile') as string;
    expect(secretMounts(name).get('/run/secrets/mongodb-keyfile')).toBe(`${name}-keyfile`);
    expect(service.entrypoint).toEqual(['/bin/sh', '/opt/interbank/mongodb-start.sh']);
    expect(service.volumes).toContain('./infra/docker/mongodb-start.sh:/opt/interbank/mongodb-start.sh:ro');
    // The start script hands mongod a private copy of the key file (mongod's own, mode 0400).
    expect(readProjectFile('infra/docker/mongodb-start.sh')).toContain(`install -m 0400 -o mongodb -g mongodb /run/secrets/mongodb-keyfile ${keyFile}`);
    expect(environmentOf(name).MONGO_INITDB_ROOT_PASSWORD_FILE).toBe(join(secretsDir, `${name}-root-password`));
  });

  test.each(Object.entries(dataNetworks))('when %s is set up, then it is internal and only its database, that database\'s init job and its services are on it', (network, members) => {
    expect(compose.networks[network]?.internal).toBe(true);
    expect(membersOf(network)).toEqual([...members].sort());
  });

  test.each(mongodbServers)('when %s is on a network, then it is on its own data network only', (name) => {
    expect(services[name]?.networks).toEqual([`${name.replace(/^mongodb-/, '')}-data`]);
  });

  test.each(ledgerNodes)('when the account service of %s connects, then its URL names a user of its own and only its node\'s database, which its init job creates it for', (bank) => {
    const config = accountService.loadConfig(environmentOf(`account-service-${bank}`));
    expect(config.bankId).toBe(bank);
    expect(config.databaseName).toBe(`ledger_${bank.replace('-', '_')}`);
    expectServiceUrl(config.mongodbUrl, { user: `account-service-${bank}`, host: `mongodb-${bank}`, database: config.databaseName });
    expectInitJobCreates(`mongodb-${bank}-init`, { host: `mongodb-${bank}`, database: config.databaseName, urlSecrets: [`account-service-${bank}-mongodb-url`] });
    expect(secretsOf(`account-service-${bank}`)).toContain(`account-service-${bank}-mongodb-url`);
  });

  test('when the worker and the API connect to the API\'s database, then each is a user of its own with only that database', () => {
    const workerEvents = worker.loadConfig(environmentOf('worker')).events;
    const apiEvents = transferApi.loadConfig(environmentOf('transfer-api')).events;
    expectServiceUrl(workerEvents.mongodbUrl, { user: 'worker', host: 'mongodb-transfer-api', database: workerEvents.databaseName });
    expectServiceUrl(apiEvents.mongodbUrl, { user: 'transfer-api', host: 'mongodb-transfer-api', database: apiEvents.databaseName });
    expect(workerEvents.databaseName).toBe('transfer_api');
    expectInitJobCreates('mongodb-transfer-api-init', { host: 'mongodb-transfer-api', database: 'transfer_api', urlSecrets: ['worker-mongodb-url', 'transfer-api-mongodb-url'] });
  });

  test('when the init jobs create users, then every user name is used once and gets readWrite on its database only', () => {
    const users = Object.entries(sampleSecrets).filter(([name]) => name.endsWith('-mongodb-url')).map(([, url]) => new URL(url).username);
    expect(new Set(users).size).toBe(users.length);
    const script = readProjectFile('infra/docker/mongodb-init.js');
    expect([...script.matchAll(/role: '([A-Za-z]+)'/g)].map((match) => match[1])).toEqual(['readWrite']);
    expect(script).toContain("roles = [{ role: 'readWrite', db: database }]");
    execFileSync(process.execPath, ['--check', join(projectRoot, 'infra/docker/mongodb-init.js')]);
  });
});

/** `id:secret` of a signing key file's content. */
function formatSigningKeyOf(content: string | undefined): string {
  expect(content).toMatch(/^[A-Za-z0-9-]+:[A-Za-z0-9_-]{32,}$/);
  return content as string;
}

function expectServiceUrl(url: string, expected: { user: string; host: string; database: string }): void {
  const parsed = new URL(url);
  expect({ user: parsed.username, host: parsed.host, path: parsed.pathname }).toEqual({ user: expected.user, host: `${expected.host}:27017`, path: `/${expected.database}` });
  expect(parsed.password.length).toBeGreaterThanOrEqual(32);
  expect(Object.fromEntries(parsed.searchParams)).toEqual({ replicaSet: composeReplicaSet, authSource: expected.database });
}

function expectInitJobCreates(job: string, expected: { host: string; database: string; urlSecrets: string[] }): void {
  const service = services[job] as ComposeService;
  const env = environmentOf(job);
  expect(service.restart).toBe('no');
  expect(service.depends_on?.[expected.host]?.condition).toBe('service_healthy');
  expect({ address: env.MONGODB_ADDRESS, replicaSet: env.MONGODB_REPLICA_SET, database: env.SERVICE_DATABASE }).toEqual({ address: `${expected.host}:27017`, replicaSet: composeReplicaSet, database: expected.database });
  expect(env.MONGODB_ROOT_USERNAME).toBe(services[expected.host]?.environment?.MONGO_INITDB_ROOT_USERNAME);
  expect(env.MONGODB_ROOT_PASSWORD_FILE).toBe(join(secretsDir, `${expected.host}-root-password`));
  const mounts = secretMounts(job);
  expect(String(service.environment?.SERVICE_MONGODB_URL_FILES).split(',').map((path) => mounts.get(path))).toEqual(expected.urlSecrets);
  for (const client of dataNetworks[`${expected.host.replace(/^mongodb-/, '')}-data`] ?? []) {
    if (client === expected.host || client === job) continue;
    expect({ client, waitsForInit: services[client]?.depends_on?.[job]?.condition }).toEqual({ client, waitsForInit: 'service_completed_successfully' });
  }
}

describe('docker-compose.yml: Temporal', () => {
  const temporalServerTag = '1.29.1';
  const clusterOptionsForTest: TemporalClusterOptions = {
    binaries: { server: 's', sqlTool: 't', schemaDir: 'd', postgresBinDir: 'p', uiServer: 'u' },
    projectRoot,
    host: '127.0.0.1',
    database: { host: '127.0.0.1', port: 5433, user: 'temporal', password: 'p' },
    ports: { frontend: { grpc: 1, membership: 2 }, history: { grpc: 3, membership: 4 }, matching: { grpc: 5, membership: 6 }, worker: { grpc: 7, membership: 8 }, frontendHttp: 9 },
    namespace: 'default',
    namespaceRetentionHours: 72,
  };

  test('when Temporal starts, then it is the maintained server image of the version the cluster profile builds, as four services after a schema job on admin-tools of the same release, and nothing uses auto-setup', () => {
    expect(`v${temporalServerTag}`).toBe(temporalServerVersion);
    for (const server of temporalServerServices) expect({ server, image: services[server]?.image }).toEqual({ server, image: `temporalio/server:${temporalServerTag}` });
    expect(services['temporal-schema']?.image).toMatch(new RegExp(`^temporalio/admin-tools:${temporalServerTag.replace(/\./g, '\\.')}-`));
    expect(services['temporal-history']?.depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');
    expect(services['temporal-schema']?.depends_on?.['temporal-postgresql']?.condition).toBe('service_healthy');
    expect(services['temporal-schema']?.restart).toBe('no');
    for (const service of Object.values(services)) expect(service.image).not.toMatch(/auto-setup/);
    expect(composeText).not.toMatch(/auto-setup|DEFAULT_NAMESPACE/);
  });

  test('when the four services start, then each runs its own service with the configuration the cluster profile runs, and history starts before the others', () => {
    const serviceOf = (name: string): string | undefined => services[name]?.entrypoint?.[2];
    expect(temporalServerServices.map(serviceOf).sort()).toEqual([...temporalServiceNames].sort());
    for (const server of temporalServerServices) {
      expect(services[server]?.entrypoint?.slice(0, 2)).toEqual(['/bin/sh', '/opt/interbank/start-server.sh']);
      expect(services[server]?.volumes).toEqual(expect.arrayContaining(['./infra/temporal/config:/etc/temporal/project-config:ro']));
    }
    expect(readProjectFile('infra/temporal/start-server.sh')).toContain('exec temporal-server --root / --config etc/temporal/project-config --env cluster --allow-no-auth start --service "$1"');
    for (const later of ['temporal', 'temporal-matching']) expect(services[later]?.depends_on?.['temporal-history']?.condition).toBe('service_healthy');
    expect(services['temporal-worker']?.depends_on?.temporal?.condition).toBe('service_healthy');
  });

  test('when the configuration file reads a variable, then compose and start-server.sh set it (or the file has a default for it), so that compose differs from the cluster profile only in addresses and secrets', () => {
    const config = readProjectFile('infra/temporal/config/cluster.yaml');
    const read = [...new Set([...config.matchAll(/env "([A-Z0-9_]+)"/g)].map((match) => match[1] as string))];
    const fromScript = ['TEMPORAL_DB_PASSWORD', 'TEMPORAL_BROADCAST_ADDRESS'];
    const defaulted = new Set([...config.matchAll(/env "([A-Z0-9_]+)" \| default/g)].map((match) => match[1] as string));
    const optional = new Set(['TEMPORAL_TLS_FRONTEND_CERT', 'TEMPORAL_TLS_FRONTEND_KEY', 'TEMPORAL_TLS_REQUIRE_CLIENT_AUTH', 'TEMPORAL_TLS_CLIENT1_CA_CERT']);
    for (const server of temporalServerServices) {
      const env = environmentOf(server);
      for (const variable of read) {
        const set = variable in env || fromScript.includes(variable) || defaulted.has(variable) || optional.has(variable);
        expect({ server, variable, set }).toEqual({ server, variable, set: true });
      }
    }
    // The same variables the launcher sets for the local processes, except the ports (compose keeps each service's default port in its own container).
    const localOnly = ['TEMPORAL_FRONTEND_PORT', 'TEMPORAL_FRONTEND_MEMBERSHIP_PORT', 'TEMPORAL_FRONTEND_HTTP_PORT', 'TEMPORAL_HISTORY_PORT', 'TEMPORAL_HISTORY_MEMBERSHIP_PORT', 'TEMPORAL_MATCHING_PORT', 'TEMPORAL_MATCHING_MEMBERSHIP_PORT', 'TEMPORAL_WORKER_PORT', 'TEMPORAL_WORKER_MEMBERSHIP_PORT'];
    const composeSet = new Set([...Object.keys(environmentOf('temporal')), ...fromScript]);
    const localSet = Object.keys(temporalServerEnv(clusterOptionsForTest)).filter((name) => name.startsWith('TEMPORAL_') && !(name in process.env) && !localOnly.includes(name));
    expect(localSet.filter((name) => !composeSet.has(name))).toEqual([]);
  });

  test('when the search attributes are registered, then compose uses the same code and list as the cluster profile', () => {
    expect(readProjectFile('services/temporal-setup/main.ts')).toContain("import { registerSearchAttributes, setNamespaceRetention } from '../../infra/processes/temporal-dev-server';");
    expect(readProjectFile('infra/processes/temporal-cluster.ts')).toContain("import { frontendServing, registerSearchAttributes, setNamespaceRetention, webUiHost } from './temporal-dev-server';");
  });

  test('when the schema job runs, then it creates and updates both schemas, on the database and with the plugin and user the server uses, as the cluster profile does', () => {
    const job = environmentOf('temporal-schema');
    const server = environmentOf('temporal');
    expect({ plugin: job.SQL_PLUGIN, host: job.SQL_HOST, port: job.SQL_PORT, user: job.SQL_USER }).toEqual({ plugin: 'postgres12', host: server.TEMPORAL_DB_HOST, port: server.TEMPORAL_DB_PORT, user: server.TEMPORAL_DB_USER });
    expect(readProjectFile('infra/temporal/config/cluster.yaml').match(/pluginName: postgres12/g)).toHaveLength(2);
    expect(server.TEMPORAL_DB_USER).toBe(environmentOf('temporal-postgresql').POSTGRES_USER);
    expect({ temporal: job.TEMPORAL_DATABASE, visibility: job.TEMPORAL_VISIBILITY_DATABASE }).toEqual({ temporal: server.TEMPORAL_DATABASE, visibility: server.TEMPORAL_VISIBILITY_DATABASE });
    expect({ temporal: job.TEMPORAL_DATABASE, visibility: job.TEMPORAL_VISIBILITY_DATABASE }).toEqual(temporalDatabases);
    expect(services['temporal-schema']?.entrypoint).toEqual(['/bin/sh', '/opt/interbank/setup-schema.sh']);
    const script = readProjectFile('infra/temporal/setup-schema.sh');
    for (const step of ['create-database', 'setup-schema -v 0.0', 'update-schema -d "$schema_root/$2/versioned"']) expect(script).toContain(`temporal-sql-tool --db "$1" ${step}`);
    expect(script).toContain('schema_root=/etc/temporal/schema/postgresql/v12');
    expect(script).toContain('prepare_database "$TEMPORAL_DATABASE" temporal');
    expect(script).toContain('prepare_database "$TEMPORAL_VISIBILITY_DATABASE" visibility');
    // The cluster profile takes the same steps with the same tool.
    const local = readProjectFile('infra/processes/temporal-cluster.ts');
    for (const step of ["['create-database']", "['setup-schema', '-v', '0.0']", "['update-schema', '-d', join(options.binaries.schemaDir, folder, 'versioned')]"]) expect(local).toContain(step);
  });

  test('when the servers and the schema job need the database password, then each reads it from the secret file', () => {
    expect(environmentOf('temporal-postgresql').POSTGRES_PASSWORD_FILE).toBe(join(secretsDir, 'temporal-db-password'));
    expect(readProjectFile('infra/temporal/start-server.sh')).toContain('TEMPORAL_DB_PASSWORD="$(cat /run/secrets/temporal-db-password)"');
    expect(readProjectFile('infra/temporal/setup-schema.sh')).toContain('SQL_PASSWORD="$(cat /run/secrets/temporal-db-password)"');
  });

  test('when Temporal creates the production namespace, then it keeps closed workflows as long as the launcher does, from one setting that temporal-setup applies again', () => {
    const namespaceJob = environmentOf('temporal-namespace');
    for (const client of ['worker', 'transfer-api', 'temporal-setup']) expect(environmentOf(client).TEMPORAL_NAMESPACE).toBe(namespaceJob.TEMPORAL_NAMESPACE);
    expect(namespaceJob.TEMPORAL_NAMESPACE_RETENTION).toBe(`${namespaceRetentionHoursDefault}h`);
    expect(temporalSetup.loadConfig(environmentOf('temporal-setup')).temporal.retentionHours).toBe(namespaceRetentionHoursDefault);
    // The same value is a valid launcher setting, so both topologies accept the same TEMPORAL_NAMESPACE_RETENTION.
    expect(localPlanFromEnv({ TEMPORAL_NAMESPACE_RETENTION: namespaceJob.TEMPORAL_NAMESPACE_RETENTION }, projectRoot).temporal.namespaceRetentionHours).toBe(namespaceRetentionHoursDefault);
    for (const name of ['temporal-namespace', 'temporal-setup']) expect(environmentOf(name, { TEMPORAL_NAMESPACE_RETENTION: '168h' }).TEMPORAL_NAMESPACE_RETENTION).toBe('168h');
    expect(composeText.match(/\$\{TEMPORAL_NAMESPACE_RETENTION\b/g)).toHaveLength(1);
    expect(readProjectFile('infra/temporal/create-namespace.sh')).toContain('temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_NAMESPACE_RETENTION"');
    expect(services['temporal-namespace']?.depends_on?.temporal?.condition).toBe('service_healthy');
    expect(services['temporal-setup']?.depends_on?.['temporal-namespace']?.condition).toBe('service_completed_successfully');
  });

  test('when the Web UI shows payloads, then it decodes them through the codec server at its published port, with the token from its secret', () => {
    const base = new URL(environmentOf('temporal-ui').CODEC_ENDPOINT_BASE_URL ?? '');
    expect(services['codec-server']?.ports).toContain(`127.0.0.1:${base.port}:${environmentOf('codec-server').CODEC_SERVER_PORT}`);
    expect(services['temporal-ui']?.entrypoint).toEqual(['/bin/sh', '/opt/interbank/start-ui.sh']);
    const script = readProjectFile('infra/temporal/start-ui.sh');
    expect(script).toContain('token="$(cat /run/secrets/codec-server-token)"');
    expect(script).toContain('TEMPORAL_CODEC_ENDPOINT="${CODEC_ENDPOINT_BASE_URL}/${token}"');
  });

  test('when the TLS settings are documented, then the compose comments and the README name the server variables and say the project clients do not read TLS yet', () => {
    const readme = readProjectFile('README.md');
    for (const variable of ['TEMPORAL_TLS_FRONTEND_CERT', 'TEMPORAL_TLS_FRONTEND_KEY', 'TEMPORAL_TLS_REQUIRE_CLIENT_AUTH', 'TEMPORAL_TLS_CLIENT1_CA_CERT']) {
      expect({ variable, compose: composeText.includes(variable), readme: readme.includes(variable) }).toEqual({ variable, compose: true, readme: true });
    }
    expect(composeText).toContain('do not read client TLS settings');
  });
});

describe('docker-compose.yml: images, networks, ports and settings', () => {
  /** PostgreSQL numbers its releases major.minor: 16.4 is an exact release. */
  const twoPartReleaseImages = new Set(['postgres']);

  test('when an image is named, then it is pinned to an exact release (or a digest), never latest, and the project image carries the package version', () => {
    for (const [name, service] of Object.entries(services)) {
      const repository = service.image?.split(':')[0] ?? '';
      const release = twoPartReleaseImages.has(repository) ? /^v?\d+\.\d+(\.\d+)?/ : /^v?\d+\.\d+\.\d+/;
      const [, tag = ''] = /^[a-z0-9./-]+:([A-Za-z0-9.-]+)(@sha256:[0-9a-f]{64})?$/.exec(service.image ?? '') ?? [];
      expect({ name, image: service.image, exact: release.test(tag) }).toEqual({ name, image: service.image, exact: true });
      expect(service.image).not.toMatch(/:latest\b/);
      if (service.build !== undefined) expect(service.image).toBe(`interbank-transfers:${packageVersion}`);
    }
  });

  test('when ports are published, then only what operators open publishes, on 127.0.0.1 only', () => {
    const published = Object.fromEntries(Object.entries(services).filter(([, service]) => (service.ports ?? []).length > 0).map(([name, service]) => [name, service.ports]));
    expect(published).toEqual(publishedPorts);
    for (const name of Object.keys(publishedPorts)) expect(services[name]?.networks).toContain('edge');
  });

  test('when the project services talk to each other, then they share the internal backend network, and every network but edge is internal', () => {
    for (const name of Object.keys(projectServices)) expect({ name, backend: services[name]?.networks?.includes('backend') }).toEqual({ name, backend: true });
    for (const [network, settings] of Object.entries(compose.networks)) expect({ network, internal: settings?.internal === true }).toEqual({ network, internal: network !== 'edge' });
  });

  test('when compose reads a setting from the environment, then .env.example lists it with a comment, and lists nothing else', () => {
    const used = new Set([...composeText.matchAll(/\$\{([A-Z0-9_]+)/g)].map((match) => match[1]));
    const example = readProjectFile('.env.example').split('\n');
    const listed = example.filter((line) => /^[A-Z0-9_]+=/.test(line)).map((line) => line.slice(0, line.indexOf('=')));
    expect([...listed].sort()).toEqual([...used].sort());
    for (const variable of listed) {
      const line = example.findIndex((text) => text.startsWith(`${variable}=`));
      expect({ variable, commented: /^#/.test(example[line - 1] ?? '') }).toEqual({ variable, commented: true });
      expect(variable).not.toMatch(/PASSWORD|SECRET|TOKEN|KEYS?$/);
    }
    expect(composeText).not.toMatch(/\$\{[A-Z0-9_]+:\?/);
  });

  test('when the shell scripts the containers run are parsed, then each is valid sh', () => {
    for (const script of ['infra/docker/mongodb-start.sh', 'infra/temporal/setup-schema.sh', 'infra/temporal/create-namespace.sh', 'infra/temporal/start-server.sh', 'infra/temporal/start-ui.sh']) {
      execFileSync('sh', ['-n', join(projectRoot, script)]);
    }
  });

  test('when a service runs for good, then it has a health check, and everything it depends on, mounts or joins exists', () => {
    for (const [name, service] of Object.entries(services)) {
      const oneShot = service.restart === 'no';
      expect({ name, healthcheck: oneShot || (service.healthcheck?.test?.length ?? 0) > 0 }).toEqual({ name, healthcheck: true });
      for (const dependency of Object.keys(service.depends_on ?? {})) expect({ name, dependency, exists: dependency in services }).toEqual({ name, dependency, exists: true });
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] as string;
        if (source.startsWith('./')) expect(existsSync(join(projectRoot, source))).toBe(true);
        else expect(compose.volumes).toHaveProperty(source);
      }
      for (const secret of secretMounts(name).values()) expect(compose.secrets).toHaveProperty(secret);
      for (const network of service.networks ?? []) expect(compose.networks).toHaveProperty(network);
    }
  });

  test('when the secrets folder and .env exist, then git and the image build leave them out, except the secrets README', () => {
    expect(readProjectFile('.gitignore')).toMatch(/^secrets\/\*$[\s\S]*^!secrets\/README\.md$[\s\S]*^\.env$/m);
    expect(readProjectFile('.dockerignore')).toMatch(/^secrets$[\s\S]*^\.env$/m);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readProjectFile('Dockerfile');

  test('when the image is built, then it is multi-stage on a pinned node 20, runs as a non-root user and has a health check', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20\.\d+\.\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/m);
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((match) => match[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)$/);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*CMD \["node", "infra\/docker\/healthcheck\.mjs"\]$/m);
    expect(existsSync(join(projectRoot, 'infra', 'docker', 'healthcheck.mjs'))).toBe(true);
    // The runtime installs production dependencies only: tsx, which runs every service, must be one.
    const manifest = JSON.parse(readProjectFile('package.json')) as { dependencies: Record<string, string> };
    expect(manifest.dependencies).toHaveProperty('tsx');
    expect(dockerfile).toContain('npm ci --omit=dev');
  });
});
