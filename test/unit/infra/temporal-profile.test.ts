import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LauncherConfigError, localPlanFromEnv, temporalProfileOf } from '../../../infra/local-plan';
import { temporalServerEnv, type TemporalClusterOptions } from '../../../infra/processes/temporal-cluster';

describe('the launcher\'s Temporal profile (--temporal=dev|cluster)', () => {
  test.each([
    [[], 'dev'],
    [['--temporal=dev'], 'dev'],
    [['--fresh', '--temporal=cluster'], 'cluster'],
  ])('when the arguments are %j, then the profile is %s', (argv, profile) => {
    expect(temporalProfileOf(argv)).toBe(profile);
  });

  test.each([['--temporal'], ['--temporal=production'], ['--temporal=']])('when the flag is %s, then the launcher refuses it and names both values', (flag) => {
    expect(() => temporalProfileOf([flag])).toThrow(LauncherConfigError);
    expect(() => temporalProfileOf([flag])).toThrow('expected --temporal=dev or --temporal=cluster');
  });

  test('when the profile is dev, then the plan has no cluster ports (the dev server runs)', () => {
    expect(localPlanFromEnv({}, '/tmp/project').temporal.cluster).toBeUndefined();
  });

  test("when the profile is cluster, then every service gets Temporal's own default ports and PostgreSQL 5433, each overridable", () => {
    expect(localPlanFromEnv({}, '/tmp/project', 'cluster').temporal).toMatchObject({
      port: 7233,
      cluster: { postgresPort: 5433, historyPort: 7234, matchingPort: 7235, workerPort: 7239, frontendHttpPort: 7243, frontendMembershipPort: 6933, historyMembershipPort: 6934, matchingMembershipPort: 6935, workerMembershipPort: 6939 },
    });
    expect(localPlanFromEnv({ TEMPORAL_POSTGRES_PORT: '15432', TEMPORAL_MEMBERSHIP_BASE_PORT: '16933' }, '/tmp/project', 'cluster').temporal.cluster).toMatchObject({ postgresPort: 15432, frontendMembershipPort: 16933, workerMembershipPort: 16939 });
  });

  test('when the server is configured, then every variable the config file reads is set from the plan, and the file reads no other', async () => {
    const options: TemporalClusterOptions = {
      binaries: { server: 's', sqlTool: 't', schemaDir: 'd', postgresBinDir: 'p', uiServer: 'u' },
      projectRoot: '/project',
      host: '127.0.0.1',
      database: { host: '127.0.0.1', port: 5433, user: 'temporal', password: 'secret' },
      ports: { frontend: { grpc: 1, membership: 2 }, history: { grpc: 3, membership: 4 }, matching: { grpc: 5, membership: 6 }, worker: { grpc: 7, membership: 8 }, frontendHttp: 9 },
      namespace: 'default',
      namespaceRetentionHours: 72,
    };
    const config = await readFile(join(__dirname, '..', '..', '..', 'infra', 'temporal', 'config', 'cluster.yaml'), 'utf8');
    const read = new Set([...config.matchAll(/env "([A-Z_]+)"/g)].map((match) => match[1]));
    const env = temporalServerEnv(options);
    const set = Object.keys(env).filter((name) => name.startsWith('TEMPORAL_'));
    // Read but left to their defaults locally: the log level, the shard count and the database names; compose only: metrics and TLS.
    const defaulted = ['TEMPORAL_LOG_LEVEL', 'TEMPORAL_NUM_HISTORY_SHARDS', 'TEMPORAL_DATABASE', 'TEMPORAL_VISIBILITY_DATABASE'];
    const composeOnly = ['TEMPORAL_PROMETHEUS_ADDRESS', 'TEMPORAL_TLS_FRONTEND_CERT', 'TEMPORAL_TLS_FRONTEND_KEY', 'TEMPORAL_TLS_REQUIRE_CLIENT_AUTH', 'TEMPORAL_TLS_CLIENT1_CA_CERT'];
    expect([...read].filter((name) => !defaulted.includes(name as string) && !composeOnly.includes(name as string)).sort()).toEqual(set.filter((name) => !(name in process.env)).sort());
    expect(env).toMatchObject({ TEMPORAL_DB_PASSWORD: 'secret', TEMPORAL_FRONTEND_PORT: '1', TEMPORAL_WORKER_MEMBERSHIP_PORT: '8', TEMPORAL_FRONTEND_ADDRESS: '127.0.0.1:1' });
  });
});

describe('TEST_TEMPORAL_PROFILE', () => {
  // Imported here so that the launcher tests above need no test support.
  const { testTemporalProfile } = jest.requireActual<typeof import('../../support/cluster')>('../../support/cluster');

  test.each([
    [undefined, {}],
    ['', {}],
    ['dev', {}],
    ['cluster', { temporalCluster: true }],
  ])('when it is %j, then the test clusters run %j', (value, expected) => {
    expect(testTemporalProfile(value === undefined ? {} : { TEST_TEMPORAL_PROFILE: value })).toEqual(expected);
  });

  test('when it names another profile, then the test refuses to start and names both values', () => {
    expect(() => testTemporalProfile({ TEST_TEMPORAL_PROFILE: 'prod' })).toThrow('expected dev or cluster');
  });
});
