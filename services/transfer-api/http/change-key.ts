import type { Request } from 'express';
import { z } from 'zod';
import { ApiError } from '../../../lib/http/errors';
import { accountIdSchema } from '../schemas';

/**
 * The Idempotency-Key of a replay-safe change (an account's status or limits, a participant's
 * cap). It becomes a change id in a ledger chain, so it has that id's shape (a UUID fits); a key
 * the bank would refuse is refused here, before anything is sent.
 */
export const changeKeySchema = accountIdSchema.meta({ description: 'Chosen by the caller (the CLI makes a random UUID); the same key again answers the first decision and changes nothing.' });
export const changeKeyHeaders = z.object({ 'idempotency-key': changeKeySchema });

export function changeIdOf(request: Request): string {
  const header = request.get('idempotency-key');
  if (header === undefined) throw new ApiError('VALIDATION_FAILED', 'the Idempotency-Key header is required', 'Idempotency-Key');
  if (!changeKeySchema.safeParse(header).success) throw new ApiError('VALIDATION_FAILED', 'Idempotency-Key must be 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit', 'Idempotency-Key');
  return header;
}
