import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, type WebhookVerification } from '../../lib/webhooks/verify-webhook';

/** What a receiver does with one request: answer with a status, optionally late (past the sender's timeout). */
export interface ReceiverAnswer {
  status: number;
  delayMs?: number;
}

export interface ReceivedRequest {
  at: number;
  /** The raw body, as the sender signed it. */
  body: string;
  /** Every header as received (lower-case names): webhook-id, webhook-timestamp, webhook-signature. */
  headers: IncomingHttpHeaders;
  signature: string | undefined;
  /** The status the receiver answered (a late answer counts: the receiver has the event). */
  status: number;
}

/**
 * A webhook receiver on 127.0.0.1, scripted request by request: the nth request gets
 * `script(n)`. It can be started late on a port chosen beforehand, so that the first
 * deliveries meet a refused connection.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  private server: Server | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly port: number,
    private readonly script: (n: number) => ReceiverAnswer = () => ({ status: 200 }),
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    if ((server.address() as AddressInfo).port !== this.port) throw new Error('receiver port mismatch');
  }

  /**
   * What a receiver holding `secrets` decided when the request arrived: the verification helper a
   * receiver imports, on the headers and raw body as received, with the receiver's clock of then.
   */
  static verified<E = unknown>(request: ReceivedRequest, secrets: string | readonly string[]): WebhookVerification<E> {
    return verifyWebhook<E>(request.headers, request.body, secrets, { now: () => new Date(request.at) });
  }

  /** Bodies answered 2xx (on time or late), the receiver's view of what it got. */
  accepted(): ReceivedRequest[] {
    return this.requests.filter((request) => request.status >= 200 && request.status < 300);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const answer = this.script(this.requests.length + 1);
    const header = req.headers['webhook-signature'];
    this.requests.push({ at: Date.now(), body: Buffer.concat(chunks).toString('utf8'), headers: req.headers, signature: Array.isArray(header) ? header[0] : header, status: answer.status });
    const respond = () => {
      if (!res.writableEnded && !res.destroyed) res.writeHead(answer.status).end();
    };
    if (answer.delayMs) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        respond();
      }, answer.delayMs);
      this.timers.add(timer);
    } else respond();
  }
}
