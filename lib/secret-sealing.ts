import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
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
const ivBytes = 12;
const tagBytes = 16;
const purpose = 'interbank-transfers/stored-secret/v1:';

export function secretSealer(keys: readonly CodecKey[] | undefined): SecretSealer {
  const sealingKey = keys?.[0];
  const keysById = new Map((keys ?? []).map((entry) => [entry.keyId, entry.key]));
  return {
    sealing: sealingKey !== undefined,
    seal(plaintext, context) {
      if (!sealingKey) return plaintext;
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', sealingKey.key, iv);
      cipher.setAAD(Buffer.from(purpose + context));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${prefix}${sealingKey.keyId}.${Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url')}`;
    },
    open(stored, context) {
      if (!stored.startsWith(prefix)) return stored;
      const rest = stored.slice(prefix.length);
      const dot = rest.lastIndexOf('.');
      const keyId = rest.slice(0, dot);
      const key = keysById.get(keyId);
      if (dot < 1 || !key) throw new SecretUnsealError(`a stored secret is sealed with key "${keyId}", which is not in PAYLOAD_CODEC_KEYS; keep retired keys there`);
      const data = Buffer.from(rest.slice(dot + 1), 'base64url');
      if (data.length < ivBytes + tagBytes) throw new SecretUnsealError('a stored secret is too short to be sealed');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, ivBytes));
        decipher.setAAD(Buffer.from(purpose + context));
        decipher.setAuthTag(data.subarray(data.length - tagBytes));
        return Buffer.concat([decipher.update(data.subarray(ivBytes, data.length - tagBytes)), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretUnsealError(`a stored secret does not open for ${context}: altered, or moved from another record`);
      }
    },
  };
}
