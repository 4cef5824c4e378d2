import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defaultApiKeys, formatApiKeys, formatServiceKeys, formatSigningKey, generateAuthorityKey, generateServiceKeys, randomToken, settlementServiceKeys, type ServiceKeyEntry } from '../secrets';

/**
 * The files docker-compose.yml reads its secrets from (`secrets/<name>`), generated with fresh
 * random values: `npx tsx infra/docker/compose-secrets.ts [folder]` writes the missing ones and
 * never overwrites a file. secrets/README.md says what each one is.
 */

/** The bank nodes of docker-compose.yml: each has its own MongoDB, key file and root password. */
export const composeBanks = ['bank-a', 'bank-b', 'bank-c'] as const;

/** The settlement bank's node: an account service like the banks', with a MongoDB, key file and root password of its own. */
export const composeSettlementBank = 'settlement';

/** The replica set every MongoDB of the topology runs as (a single member each). */
export const composeReplicaSet = 'rs0';

/** A MongoDB server of the topology and the services that keep data in it. */
interface MongodbServer {
  host: string;
  database: string;
  /** Secret file name → the user it holds (one user per service). */
  users: Record<string, string>;
}

function mongodbServers(): MongodbServer[] {
  const banks = [...composeBanks, composeSettlementBank].map((bank): MongodbServer => ({
    host: `mongodb-${bank}`,
    database: `ledger_${bank.replace(/-/g, '_')}`,
    users: { [`account-service-${bank}-mongodb-url`]: `account-service-${bank}` },
  }));
  // The worker writes the transfer record and the event feed beside the API, each as a user of its own.
  const transferApi: MongodbServer = { host: 'mongodb-transfer-api', database: 'transfer_api', users: { 'worker-mongodb-url': 'worker', 'transfer-api-mongodb-url': 'transfer-api' } };
  return [...banks, transferApi];
}

function mongodbUrl(server: MongodbServer, user: string): string {
  const query = `replicaSet=${composeReplicaSet}&authSource=${server.database}`;
  return `mongodb://${user}:${randomToken(32)}@${server.host}:27017/${server.database}?${query}`;
}

function mongodbSecrets(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const server of mongodbServers()) {
    // mongod reads 6 to 1024 base64 characters from a key file; 756 bytes give 1008.
    files[`${server.host}-keyfile`] = randomBytes(756).toString('base64');
    files[`${server.host}-root-password`] = randomToken(32);
    for (const [file, user] of Object.entries(server.users)) files[file] = mongodbUrl(server, user);
  }
  return files;
}

/**
 * The service keys: what the banks' account services accept, what the settlement bank accepts (the
 * same keys, the API's with `ledger` too), and the three callers' own halves of them.
 */
function serviceKeySecrets(): Record<string, string> {
  const keys = generateServiceKeys();
  const signingKey = (caller: ServiceKeyEntry['caller']): string => formatSigningKey(keys.find((key) => key.caller === caller) as ServiceKeyEntry);
  return {
    'account-service-keys': formatServiceKeys(keys),
    'settlement-service-keys': formatServiceKeys(settlementServiceKeys({ serviceKeys: keys })),
    'worker-service-signing-key': signingKey('worker'),
    'transfer-api-service-signing-key': signingKey('transfer-api'),
    'reconciliation-signing-key': signingKey('reconciliation'),
  };
}

/** Files that hold halves of one set of keys: written together or not at all. */
export const serviceKeyFiles = Object.keys(serviceKeySecrets());

/** Every secret file of docker-compose.yml, name → content, freshly generated. */
export function generateComposeSecrets(): Record<string, string> {
  return {
    'temporal-db-password': randomToken(32),
    'grafana-admin-password': randomToken(24),
    ...mongodbSecrets(),
    ...serviceKeySecrets(),
    'transfer-authority-keys': formatSigningKey(generateAuthorityKey()),
    'transfer-api-keys': formatApiKeys(defaultApiKeys()),
    'payload-codec-keys': `codec-1:${randomBytes(32).toString('base64')}`,
    'codec-server-token': randomToken(32),
  };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Writes the secret files missing from the folder; an existing file is kept as it is. The
 * containers run as users of their own (node, mongodb, postgres, grafana, temporal) and Compose
 * mounts a file secret with the host file's mode, so the files are 0644 in a folder only its
 * owner may enter (0700).
 */
export async function writeMissingComposeSecrets(folder: string): Promise<{ written: string[]; kept: string[] }> {
  await mkdir(folder, { recursive: true, mode: 0o700 });
  await chmod(folder, 0o700);
  const generated = generateComposeSecrets();
  const present = new Set<string>();
  for (const name of Object.keys(generated)) if (await exists(join(folder, name))) present.add(name);
  const keyFilesPresent = serviceKeyFiles.filter((name) => present.has(name));
  if (keyFilesPresent.length > 0 && keyFilesPresent.length < serviceKeyFiles.length) {
    throw new Error(`the service key files belong together: found ${keyFilesPresent.join(', ')} but not the others of ${serviceKeyFiles.join(', ')}; remove them all to generate a new set`);
  }
  const written: string[] = [];
  for (const [name, content] of Object.entries(generated)) {
    if (present.has(name)) continue;
    await writeFile(join(folder, name), `${content}\n`, { mode: 0o644, flag: 'wx' });
    written.push(name);
  }
  return { written, kept: [...present] };
}

async function main(): Promise<void> {
  const folder = resolve(process.argv[2] ?? 'secrets');
  const { written, kept } = await writeMissingComposeSecrets(folder);
  process.stdout.write(`${folder}: wrote ${written.length} (${written.join(', ') || 'none'}), kept ${kept.length}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`compose-secrets: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
