import { z } from 'zod';

/** Longest endpoint URL accepted. */
export const webhookUrlLengthMax = 2_048;

export type WebhookUrlRefusal = 'WEBHOOK_URL_INVALID' | 'WEBHOOK_URL_SCHEME' | 'WEBHOOK_URL_CREDENTIALS' | 'WEBHOOK_URL_TOO_LONG' | 'WEBHOOK_HOST_NOT_ALLOWED';

/**
 * `WEBHOOK_ALLOWED_HOSTS=hooks.example.com,localhost:8080,127.0.0.1:*`: an entry without a port
 * allows only the scheme's default port (443 for https, 80 for http), `host:port` that port, and
 * `host:*` every port of the host (the local cluster's receivers run on any port). A bare host
 * never opens its other ports: those could be an admin console or a database on the receiver's
 * machine. Host names are compared lower-case; nothing else is ever called.
 */
export const allowedHostsSchema = z
  .string()
  .transform((value, context) => {
    const entries = value.split(',').map((item) => item.trim().toLowerCase()).filter((item) => item !== '');
    for (const entry of entries) {
      if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]{1,253})(:([0-9]{1,5}|\*))?$/.test(entry)) {
        context.addIssue({ code: 'custom', message: `"${entry}" is not host or host:port` });
        return z.NEVER;
      }
    }
    return entries;
  });

/** The port a URL without one is called on. */
function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

/**
 * Why an endpoint URL may not be called, or undefined when it may. Checked when an endpoint is
 * registered and again before every delivery, so a narrowed allow-list takes effect at once.
 */
export function webhookUrlRefusal(raw: string, allowedHosts: readonly string[]): { code: WebhookUrlRefusal; message: string } | undefined {
  if (raw.length > webhookUrlLengthMax) return { code: 'WEBHOOK_URL_TOO_LONG', message: `the URL is longer than ${webhookUrlLengthMax} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { code: 'WEBHOOK_URL_INVALID', message: 'the URL is not an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { code: 'WEBHOOK_URL_SCHEME', message: 'only http and https URLs are called' };
  if (url.username !== '' || url.password !== '') return { code: 'WEBHOOK_URL_CREDENTIALS', message: 'the URL may not carry credentials' };
  const host = url.hostname.toLowerCase();
  const port = url.port === '' ? defaultPort(url.protocol) : url.port;
  const allowed = allowedHosts.some((entry) => entry === `${host}:*` || entry === `${host}:${port}` || (entry === host && port === defaultPort(url.protocol)));
  if (!allowed) return { code: 'WEBHOOK_HOST_NOT_ALLOWED', message: `the host ${url.host} is not in WEBHOOK_ALLOWED_HOSTS` };
  return undefined;
}
