import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { lostPortRace, startClusterOnFreePorts, type RunningCluster } from '../../../infra/cluster';
import { freePortRange, PortInUseError } from '../../../infra/ports';
import { fileLogSink, temporaryDir } from '../../support/cluster';

jest.setTimeout(300_000);

const serversOnly = { banks: ['bank-a'] } as const;

function portsOf(cluster: RunningCluster): number[] {
  const { temporal, banks } = cluster.plan;
  return [temporal.port, temporal.uiPort, ...banks.flatMap((bank) => [bank.databasePort, bank.databaseDebugPort])];
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** Another process on the machine opening and closing outgoing connections as fast as it can: each takes an ephemeral source port. */
function startConnectionChurn(): { child: ChildProcess; stop: () => Promise<number> } {
  const child = fork(join(__dirname, '..', '..', 'support', 'connection-churn.mjs'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return {
    child,
    stop: () =>
      new Promise((resolve) => {
        child.once('message', (count) => resolve(Number(count)));
        child.send('stop');
      }),
  };
}

describe('ports of test clusters on a busy machine', () => {
  test('when a planned port is taken by another process before the start, then the cluster starts again on new ports', async () => {
    const dir = await temporaryDir('port-race-taken');
    const logs = fileLogSink('port-race-taken');
    const lines: string[] = [];
    let squatter: Server | undefined;
    let taken = 0;
    try {
      const cluster = await startClusterOnFreePorts(dir.path, serversOnly, { sink: logs.sink, log: (line) => lines.push(line) }, {
        beforeStart: async (plan, attempt) => {
          if (attempt > 1) return;
          taken = plan.banks[0]?.databasePort ?? 0;
          squatter = await listenOn(taken);
        },
      });
      try {
        expect(lines).toContain('a planned port was taken by another process; starting again on new ports (attempt 2 of 3)');
        expect(portsOf(cluster)).not.toContain(taken);
        expect(cluster.databaseUrls.get('bank-a')).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\//);
      } finally {
        await cluster.stop();
      }
    } finally {
      squatter?.close();
      await logs.close();
      await dir.remove();
    }
  });

  test('when a server reports its port taken, or the check before the start finds it taken, then it counts as a lost race; other failures do not', () => {
    expect(lostPortRace(new Error('ferretdb-bank-a exited before its port was ready. Its last output:\nlisten tcp 127.0.0.1:21001: bind: address already in use'))).toBe(true);
    expect(lostPortRace(new Error('Error: listen EADDRINUSE: address already in use 127.0.0.1:21002'))).toBe(true);
    expect(lostPortRace(new PortInUseError('FerretDB of bank-a needs 127.0.0.1:21003, which is already in use.'))).toBe(true);
    expect(lostPortRace(new Error('temporal exited before its frontend was ready: unknown flag --foo'))).toBe(false);
  });

  test('when three clusters start at once while another process churns outgoing connections, then all start, on distinct ports outside the ephemeral range', async () => {
    const churn = startConnectionChurn();
    const dirs = await Promise.all([1, 2, 3].map((n) => temporaryDir(`port-race-busy-${n}`)));
    const logs = fileLogSink('port-race-busy');
    const started: RunningCluster[] = [];
    try {
      const clusters = await Promise.allSettled(dirs.map((dir) => startClusterOnFreePorts(dir.path, serversOnly, { sink: logs.sink })));
      for (const result of clusters) if (result.status === 'fulfilled') started.push(result.value);
      expect(clusters.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
      const ports = started.flatMap(portsOf);
      expect(new Set(ports).size).toBe(ports.length);
      expect(ports.filter((port) => port < freePortRange.min || port >= freePortRange.max)).toEqual([]);
    } finally {
      const connections = await churn.stop();
      console.log(`outgoing connections opened and closed meanwhile: ${connections}`);
      expect(connections).toBeGreaterThan(1_000);
      await Promise.all(started.map((cluster) => cluster.stop()));
      await logs.close();
      await Promise.all(dirs.map((dir) => dir.remove()));
    }
  });
});
