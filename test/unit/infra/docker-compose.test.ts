import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { parse } from 'yaml';
import { localPlanFromEnv } from '../../../infra/local-plan';
import { namespaceRetentionHoursDefault } from '../../../infra/processes/temporal-dev-server';
import * as accountService from '../../../services/account-service/config';
import * as codecServer from '../../../services/codec-server/config';
import * as temporalSetup from '../../../services/temporal-setup/config';
import * as transferApi from '../../../services/transfer-api/config';
import * as worker from '../../../services/worker/config';

const projectRoot = join(__dirname, '..', '..', '..');
const packageVersion = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  restart?: string;
  ports?: string[];
  volumes?: string[];
}

/** Values for the secrets the compose file requires (`${NAME:?…}`), shaped as each process expects them. */
const sampleSecrets: Record<string, string> = {
  TEMPORAL_DB_PASSWORD: 'compose-test-db-password',
  SERVICE_KEYS: 'k2026:0123456789abcdef0123456789abcdef,k2025:fedcba9876543210fedcba9876543210',
  TRANSFER_API_KEYS: 'operator:operator:op_0123456789abcdef01234567,client-a:client:cl_0123456789abcdef01234567',
  PAYLOAD_CODEC_KEYS: 'key-2026:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
  CODEC_SERVER_TOKEN: 'compose-test-codec-token-0123456789abcdef',
  GRAFANA_ADMIN_PASSWORD: 'compose-test-grafana-password',
};

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

const composeText = readFileSync(join(projectRoot, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
const services = compose.services;

function environmentOf(name: string): Record<string, string> {
  const environment = services[name]?.environment ?? {};
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, interpolate(String(value), sampleSecrets)]));
}

/** Variables a project process's environment may carry beside its own: read by the image's health check. */
const imageVariables = new Set(['HEALTHCHECK_URL']);

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
  worker: { entry: 'services/worker/main.ts', config: worker, metricsPortVariable: 'WORKER_METRICS_PORT' },
  'transfer-api': { entry: 'services/transfer-api/main.ts', config: transferApi, metricsPortVariable: 'PORT' },
  'temporal-setup': { entry: 'services/temporal-setup/main.ts', config: temporalSetup },
  'codec-server': { entry: 'services/codec-server/main.ts', config: codecServer, metricsPortVariable: 'CODEC_SERVER_PORT' },
};

describe('docker-compose.yml', () => {
  test('when the services built from the Dockerfile are listed, then each is in the table of project services and the other way round', () => {
    const built = Object.entries(services).filter(([, service]) => service.build !== undefined).map(([name]) => name);
    expect(built.sort()).toEqual(Object.keys(projectServices).sort());
  });

  test.each(Object.entries(projectServices))('when %s starts with its compose environment, then its configuration schema accepts it and it knows every variable', (name, project) => {
    const env = environmentOf(name);
    expect(() => project.config.loadConfig(env)).not.toThrow();
    const known = new Set(Object.keys(project.config.envSchema.shape));
    expect(Object.keys(env).filter((variable) => !known.has(variable) && !imageVariables.has(variable))).toEqual([]);
    expect(services[name]?.command).toEqual(['node', '--enable-source-maps', '--import', 'tsx', project.entry]);
    expect(existsSync(join(projectRoot, project.entry))).toBe(true);
  });

  test('when a secret is missing from the environment, then compose refuses to start instead of running with an empty value', () => {
    const required = [...composeText.matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((match) => match[1]);
    expect([...new Set(required)].sort()).toEqual(Object.keys(sampleSecrets).sort());
    expect(() => interpolate('${SERVICE_KEYS:?set SERVICE_KEYS}', {})).toThrow('compose requires SERVICE_KEYS');
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    for (const name of Object.keys(sampleSecrets)) expect(readme).toContain(name);
  });

  test('when the account services start, then each serves its own bank on its own MongoDB, and the worker and API reach all of them', () => {
    const directory = new Map<string, string>();
    for (const bank of ['bank-a', 'bank-b', 'bank-c']) {
      const config = accountService.loadConfig(environmentOf(`account-service-${bank}`));
      expect(config.bankId).toBe(bank);
      expect(new URL(config.mongodbUrl).hostname).toBe(`mongodb-${bank}`);
      expect(services[`mongodb-${bank}`]).toBeDefined();
      expect(services[`account-service-${bank}`]?.depends_on?.[`mongodb-${bank}`]?.condition).toBe('service_healthy');
      directory.set(bank, `http://account-service-${bank}:${config.port}`);
    }
    const workerConfig = worker.loadConfig(environmentOf('worker'));
    const apiConfig = transferApi.loadConfig(environmentOf('transfer-api'));
    for (const config of [workerConfig, apiConfig]) {
      expect(new Map(config.banks.map((bank) => [bank.bankId, bank.url]))).toEqual(directory);
      expect(config.temporal.address).toBe('temporal:7233');
      expect(config.signingKey.keyId).toBe('k2026');
    }
    expect(apiConfig.host).toBe('0.0.0.0');
    expect(workerConfig.metricsBindAddress).toBe('0.0.0.0:9464');
  });

  test('when Prometheus scrapes, then every project process with metrics is a target on the port its configuration sets', () => {
    const prometheus = parse(readFileSync(join(projectRoot, 'infra', 'prometheus', 'prometheus.yml'), 'utf8')) as { scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> };
    const targets = new Set(prometheus.scrape_configs.flatMap((job) => job.static_configs.flatMap((group) => group.targets)));
    for (const [name, project] of Object.entries(projectServices)) {
      if (!project.metricsPortVariable) continue;
      expect({ name, scraped: targets.has(`${name}:${environmentOf(name)[project.metricsPortVariable]}`) }).toEqual({ name, scraped: true });
    }
    expect(targets.has(`temporal:${String(environmentOf('temporal').PROMETHEUS_ENDPOINT).split(':')[1]}`)).toBe(true);
    expect(services.prometheus?.volumes).toContain('./infra/prometheus:/etc/prometheus:ro');
    expect(services.grafana?.volumes).toEqual(expect.arrayContaining(['./infra/grafana/provisioning:/etc/grafana/provisioning:ro', './infra/grafana/dashboards:/var/lib/grafana/dashboards:ro']));
  });

  test('when Temporal creates the production namespace, then it keeps closed workflows as long as the launcher does, and TEMPORAL_NAMESPACE_RETENTION changes it', () => {
    const temporal = environmentOf('temporal');
    expect(temporal.DEFAULT_NAMESPACE).toBe(environmentOf('worker').TEMPORAL_NAMESPACE);
    expect(temporal.DEFAULT_NAMESPACE).toBe(environmentOf('transfer-api').TEMPORAL_NAMESPACE);
    expect(temporal.DEFAULT_NAMESPACE_RETENTION).toBe(`${namespaceRetentionHoursDefault}h`);
    // The same value is a valid launcher setting, so both topologies accept the same TEMPORAL_NAMESPACE_RETENTION.
    expect(localPlanFromEnv({ TEMPORAL_NAMESPACE_RETENTION: temporal.DEFAULT_NAMESPACE_RETENTION }, projectRoot).temporal.namespaceRetentionHours).toBe(namespaceRetentionHoursDefault);
    expect(interpolate(String(services.temporal?.environment?.DEFAULT_NAMESPACE_RETENTION), { TEMPORAL_NAMESPACE_RETENTION: '168h' })).toBe('168h');
  });

  test('when the Web UI shows payloads, then it decodes them through the codec server at its published port', () => {
    const endpoint = new URL(environmentOf('temporal-ui').TEMPORAL_CODEC_ENDPOINT ?? '');
    expect(services['codec-server']?.ports).toContain(`127.0.0.1:${endpoint.port}:${environmentOf('codec-server').CODEC_SERVER_PORT}`);
  });

  test('when an image is named, then it is pinned to a version (never latest) and the project image carries the package version', () => {
    for (const [name, service] of Object.entries(services)) {
      expect({ name, image: service.image }).toEqual({ name, image: expect.stringMatching(/^[a-z0-9./-]+:v?\d+\.\d+(\.\d+)?[A-Za-z0-9.-]*(@sha256:[0-9a-f]{64})?$/) });
      expect(service.image).not.toMatch(/:latest\b/);
      if (service.build !== undefined) expect(service.image).toBe(`interbank-transfers:${packageVersion}`);
    }
  });

  test('when a service runs for good, then it has a health check, and everything it depends on exists', () => {
    for (const [name, service] of Object.entries(services)) {
      const oneShot = service.restart === 'no';
      expect({ name, healthcheck: oneShot || (service.healthcheck?.test?.length ?? 0) > 0 }).toEqual({ name, healthcheck: true });
      for (const dependency of Object.keys(service.depends_on ?? {})) expect({ name, dependency, exists: dependency in services }).toEqual({ name, dependency, exists: true });
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] as string;
        if (source.startsWith('./')) expect(existsSync(join(projectRoot, source))).toBe(true);
        else expect(compose.volumes).toHaveProperty(source);
      }
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8');

  test('when the image is built, then it is multi-stage on a pinned node 20, runs as a non-root user and has a health check', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20\.\d+\.\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/m);
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((match) => match[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)$/);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*CMD \["node", "infra\/docker\/healthcheck\.mjs"\]$/m);
    expect(existsSync(join(projectRoot, 'infra', 'docker', 'healthcheck.mjs'))).toBe(true);
    // The runtime installs production dependencies only: tsx, which runs every service, must be one.
    const manifest = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(manifest.dependencies).toHaveProperty('tsx');
    expect(dockerfile).toContain('npm ci --omit=dev');
  });
});
