import { createServer } from 'node:net';

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

function tryListen(host: string, port: number): Promise<number | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      server.close(() => resolve(bound));
    });
  });
}

/** Fails at once, naming the port's purpose and the variable that moves it, instead of hanging on a taken port. */
export async function assertPortFree(host: string, port: number, purpose: string, variable: string): Promise<void> {
  const result = await tryListen(host, port);
  if (typeof result === 'number') return;
  if (result.code === 'EADDRINUSE') {
    throw new PortInUseError(`${purpose} needs ${host}:${port}, which is already in use. Stop whatever holds it, or set ${variable} to another port.`);
  }
  throw new PortInUseError(`${purpose} cannot bind ${host}:${port}: ${result.message}`);
}

/** A port the OS reports free right now (tests and ephemeral clusters). */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const result = await tryListen(host, 0);
  if (typeof result === 'number') return result;
  throw result;
}
