import { openBytes, sealBytes } from './aes-gcm';
import type { CodecKey } from './payload-codec';

/**
 * Secrets kept in a database (webhook endpoint secrets), sealed with AES-256-GCM under the
 * payload codec keys: the first key seals, every key opens, so a key rotation is the codec's.
 * The sealed text is bound to its place (`context`, e.g. the endpoint id), so a secret copied
 * onto another row does not open there.
 */
export interface SecretSealer {
  /** Whether stored secrets are sealed; without codec keys they are kept as given. */
  readonly sealing: boolean;
  seal(plaintext: string, context: string): string;
  /** A value stored before sealing was switched on is returned as it is. */
  open(stored: string, context: string): string;
}

export class SecretUnsealError extends Error {
  override readonly name = 'SecretUnsealError';
}

const prefix = 'sealed.v1.';
const purpose = 'interbank-transfers/stored-secret/v1:';

export function secretSealer(keys: readonly CodecKey[] | undefined): SecretSealer {
  const sealingKey = keys?.[0];
  const keysById = new Map((keys ?? []).map((entry) => [entry.keyId, entry.key]));
  return {
    sealing: sealingKey !== undefined,
    seal(plaintext, context) {
      if (!sealingKey) return plaintext;
      const sealed = sealBytes(sealingKey.key, Buffer.from(plaintext, 'utf8'), Buffer.from(purpose + context));
      return `${prefix}${sealingKey.keyId}.${sealed.toString('base64url')}`;
    },
    open(stored, context) {
      if (!stored.startsWith(prefix)) return stored;
      const rest = stored.slice(prefix.length);
      const dot = rest.lastIndexOf('.');
      const keyId = rest.slice(0, dot);
      const key = keysById.get(keyId);
      if (dot < 1 || !key) throw new SecretUnsealError(`a stored secret is sealed with key "${keyId}", which is not in PAYLOAD_CODEC_KEYS; keep retired keys there`);
      try {
        return openBytes(key, Buffer.from(rest.slice(dot + 1), 'base64url'), Buffer.from(purpose + context)).toString('utf8');
      } catch {
        throw new SecretUnsealError(`a stored secret does not open for ${context}: altered, or moved from another record`);
      }
    },
  };
}
