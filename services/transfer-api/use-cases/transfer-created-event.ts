import { transferEventId } from '../../../lib/contracts/event-contract';
import type { WebhookPolicy } from '../../../lib/contracts/transfer-contract';
import { transferView } from '../../../lib/contracts/transfer-view';
import type { EventStore } from '../../../lib/events/event-store';
import { recordedState, type TransferRecordDocument } from '../../../lib/record/transfer-record';
import { transferIdentifiers } from '../../../lib/record/transfer-identifiers';
import type { WebhookDeliveryStarter } from '../../../lib/temporal/webhook-delivery-start';

/** Records a transfer's `transfer.created` event and starts its deliveries; idempotent by event id. */
export interface TransferCreatedEvents {
  record(record: TransferRecordDocument): Promise<void>;
}

/**
 * The API records `transfer.created` itself, before the saga starts: the transfer exists from its
 * record's insert, and the saga gains no command for it. A crash before the saga started is
 * finished by a repeat of the request or the sweeper, both of which come through here again.
 */
export function transferCreatedEvents(store: Pick<EventStore, 'recordEvent'>, deliveries: WebhookDeliveryStarter, policy: WebhookPolicy): TransferCreatedEvents {
  return {
    async record(record) {
      const state = recordedState({ record, latest: undefined });
      const eventId = transferEventId(record._id, 'transfer.created');
      const document = await store.recordEvent({ eventId, type: 'transfer.created', client: record.client, createdAt: record.createdAt, transfer: state }, transferView(state, transferIdentifiers(record._id, record)));
      if (document.endpointIds.length > 0) await deliveries.start(document.endpointIds.map((endpointId) => ({ eventId, endpointId, policy })));
    },
  };
}
