import { transferEventId, transferEventTypes } from '../../../lib/contracts/event-contract';
import { eventIdSchema } from '../../../services/transfer-api/event-schemas';

describe('event ids in the API', () => {
  it.each(transferEventTypes.flatMap((type) => [1, 2, 3].map((occurrence) => [type, occurrence] as const)))('accepts the id the saga gives a %s event (occurrence %d)', (type, occurrence) => {
    expect(eventIdSchema.safeParse(transferEventId('t-2026_11.29', type, occurrence)).success).toBe(true);
  });

  it.each(['t-1', 't-1:transfer.completed:0', 't-1:transfer.completed:x', 't-1:other.completed', ':transfer.completed', 't-1:transfer.completed:2:2'])('refuses %p', (id) => {
    expect(eventIdSchema.safeParse(id).success).toBe(false);
  });
});
