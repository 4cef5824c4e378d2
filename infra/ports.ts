import { randomInt } from 'node:crypto';
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

/**
 * Test and ephemeral-cluster ports come from below the kernel's ephemeral range (32768–60999 on
 * Linux): a port the kernel hands out for port 0 can become the source port of an outgoing
 * connection before the process it was meant for binds it, which fails a suite on a busy machine.
 */
export const freePortRange = { min: 20_000, max: 32_000 } as const;
const portsHandedOut = new Set<number>();
const freePortTriesMax = 500;

/** A port free right now in `freePortRange`, never the same one twice in this process. */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  for (let tries = 0; tries < freePortTriesMax; tries += 1) {
    const port = randomInt(freePortRange.min, freePortRange.max);
    if (portsHandedOut.has(port)) continue;
    const result = await tryListen(host, port);
    if (typeof result !== 'number') continue;
    portsHandedOut.add(port);
    return port;
  }
  throw new PortInUseError(`no free port in ${freePortRange.min}-${freePortRange.max - 1} after ${freePortTriesMax} tries`);
}
