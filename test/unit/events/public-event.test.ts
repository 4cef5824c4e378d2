import { publicEvent, type FeedDocument } from '../../../lib/events/event-store';
import { derivedUetr } from '../../../lib/record/transfer-identifiers';

const document = (transfer: Record<string, unknown>): FeedDocument =>
  ({ _id: 'client-a:1', client: 'client-a', seq: 1, eventId: 'tr-1:transfer.refunded', type: 'transfer.refunded', createdAt: '2026-11-01T00:00:00.000Z', transfer, endpointIds: [] }) as unknown as FeedDocument;

describe('an event as the feed and deliveries show it', () => {
  test('when it was recorded before transfers had payment identifiers, then it shows the derived UETR, no end-to-end id and the ISO codes of its status and reason', () => {
    const shown = publicEvent(document({ id: 'tr-1', status: 'REFUNDED', reason: 'ACCOUNT_FROZEN' })).data.transfer;
    expect(shown).toEqual({ id: 'tr-1', status: 'REFUNDED', reason: 'ACCOUNT_FROZEN', uetr: derivedUetr('tr-1'), endToEndId: null, isoStatus: 'RJCT', isoReasonCode: 'AC06' });
  });

  test('when it carries its identifiers, then it is shown as recorded', () => {
    const recorded = { id: 'tr-2', status: 'COMPLETED', uetr: '0f3c7a2e-5d1b-4c8e-9a6f-2b7d4e1c9a30', endToEndId: 'E2E-1', isoStatus: 'ACSC', isoReasonCode: null };
    expect(publicEvent(document(recorded)).data.transfer).toEqual(recorded);
  });
});
