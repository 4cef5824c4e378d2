import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy between the worker and one account service that can misbehave:
 * - delay: every chunk of the service's answers waits before it is passed on;
 * - drop-responses: requests reach the service (and are committed there), but the first
 *   byte of an answer closes the connection instead: a lost acknowledgement;
 * - partition: connections are refused (reset at once) until the mode changes.
 */
export type ProxyMode = { kind: 'pass' } | { kind: 'delay'; delayMs: number } | { kind: 'drop-responses' } | { kind: 'partition' };

export interface ProxyCounters {
  connections: number;
  refused: number;
  droppedResponses: number;
}

export class FaultyProxy {
  private mode: ProxyMode = { kind: 'pass' };
  private readonly open = new Set<Socket>();
  readonly counters: ProxyCounters = { connections: 0, refused: 0, droppedResponses: 0 };

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(host: string, port: number, upstreamPort: number): Promise<FaultyProxy> {
    // The connection handler needs the proxy, the proxy needs the server: a holder breaks the cycle.
    const holder: { proxy?: FaultyProxy } = {};
    const server = createServer((client) => holder.proxy?.accept(client, host, upstreamPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    holder.proxy = new FaultyProxy(server, port);
    return holder.proxy;
  }

  get currentMode(): ProxyMode {
    return this.mode;
  }

  /** A new mode applies to every connection: kept-alive ones are cut so that none escapes the fault. */
  setMode(mode: ProxyMode): void {
    this.mode = mode;
    if (mode.kind !== 'pass') for (const socket of this.open) socket.destroy();
  }

  private accept(client: Socket, host: string, upstreamPort: number): void {
    if (this.mode.kind === 'partition') {
      this.counters.refused += 1;
      client.resetAndDestroy();
      return;
    }
    this.counters.connections += 1;
    const upstream = connect(upstreamPort, host);
    this.open.add(client);
    this.open.add(upstream);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      this.open.delete(client);
      this.open.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      const mode = this.mode;
      if (mode.kind === 'drop-responses') {
        this.counters.droppedResponses += 1;
        close();
      } else if (mode.kind === 'delay') {
        upstream.pause();
        setTimeout(() => {
          if (!client.destroyed) client.write(chunk);
          upstream.resume();
        }, mode.delayMs);
      } else if (mode.kind === 'partition') {
        close();
      } else {
        client.write(chunk);
      }
    });
  }

  async stop(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
