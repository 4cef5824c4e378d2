import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Express } from 'express';
import { pino } from 'pino';
import type { EventStore } from '../../lib/events/event-store';
import { buildTransferApi, type TransferApiDeps } from '../../services/transfer-api/app';
import { hashApiKey, type ApiKeyRecord, type Role } from '../../services/transfer-api/config';
import { BankAccounts } from '../../services/transfer-api/gateways/bank-accounts';
import type { SettlementBank } from '../../services/transfer-api/gateways/settlement-bank';
import type { Mandate } from '../../services/transfer-api/mandates';
import type { SettlementConfig } from '../../services/transfer-api/settlement-config';
import { recordingBankFetch, type BankCall } from './fakes/bank-fetch';
import { portFake } from './fakes/port-fake';
import { FakeReconciliations } from './fakes/reconciliations';
import { FakeTransferRecords } from './fakes/transfer-records';
import { FakeTransferWorkflows } from './fakes/transfer-workflows';

/** The transfer API of one test file, served on 127.0.0.1 over fakes of Temporal, its database and the banks. */
export interface InProcessTransferApi {
  app: Express;
  baseUrl: string;
  keyFor: (name: 'operator' | 'client-a' | 'client-b') => string;
  workflows: FakeTransferWorkflows;
  records: FakeTransferRecords;
  bankCalls: BankCall[];
  stop: () => Promise<void>;
}

const callers: ReadonlyArray<{ name: 'operator' | 'client-a' | 'client-b'; role: Role }> = [
  { name: 'operator', role: 'operator' },
  { name: 'client-a', role: 'client' },
  { name: 'client-b', role: 'client' },
];
/** The webhook policy of the in-process API when a test gives it a delivery starter. */
export const inProcessWebhookPolicy = { deliveryTaskQueue: 'transfers-webhooks', retryInitialIntervalMs: 1_000, retryMaximumIntervalMs: 10_000, giveUpAfterMs: 60_000 };
/** bank-a has a BIC (BANK_BICS) and bank-b none, so that both ways of naming a bank are served. */
export const inProcessBankBic = 'BKAADEFFXXX';
const banks = [
  { bankId: 'bank-a', url: 'http://bank-a.invalid', bic: inProcessBankBic },
  { bankId: 'bank-b', url: 'http://bank-b.invalid' },
];

/** A settlement bank that knows its configuration and answers no call: the edge decides before any. */
function settlementBankFake(currencies: readonly string[]): SettlementBank {
  const config: SettlementConfig = { model: 'deferred-net', bankId: 'settlement', url: 'http://settlement.invalid', currencies, openingReserveMinor: 0n, openingNetDebitCapMinor: 0n, windowMinutes: 0 };
  return portFake<SettlementBank>('SettlementBank', { config, model: 'deferred-net', participants: banks.map((bank) => bank.bankId) });
}

/**
 * Options as the local cluster sets them: every client may debit every bank; the maxima and
 * webhook hosts of TransferApiDeps. The event store is a fake that throws on every call: a test
 * that reaches it fails.
 */
export interface InProcessOptions extends Partial<Pick<TransferApiDeps, 'rateLimitPerMinute' | 'clientTransferMaxMinor' | 'allowedWebhookHosts' | 'webhookDeliveries' | 'webhookSecretOverlapMs'>> {
  /** Transfers between banks settle (deferred-net) in these currencies, at a settlement bank that is a fake throwing on every call. */
  settlementCurrencies?: readonly string[];
  /** Event store members the test implements; every other member still throws. */
  events?: Partial<EventStore>;
}

export async function startInProcessTransferApi(options: InProcessOptions = {}): Promise<InProcessTransferApi> {
  const keys = new Map(callers.map((caller) => [caller.name, `${caller.name}-in-process-key-0000000000`]));
  const apiKeys: ApiKeyRecord[] = callers.map((caller) => ({ name: caller.name, role: caller.role, keyHash: hashApiKey(keys.get(caller.name) ?? '') }));
  const everyBank: Mandate = { kind: 'banks', banks: new Set(banks.map((bank) => bank.bankId)) };
  const workflows = new FakeTransferWorkflows();
  const records = new FakeTransferRecords();
  const transport = recordingBankFetch();
  const { app } = buildTransferApi({
    logger: pino({ level: 'silent' }),
    apiKeys,
    workflows,
    records: records.asStore(),
    banks: new BankAccounts(banks, { keyId: 'in-process', secret: 's'.repeat(32) }, 1_000, transport.fetch),
    reconciliations: new FakeReconciliations(),
    policy: {
      approvalThresholdMinor: '1000000',
      approvalTimeoutMs: 60_000,
      amountMaxMinor: '100000000000',
      banks: banks.map((bank) => bank.bankId),
      refundAttentionAfterAttempts: 3,
      // With a delivery starter the API records transfer.created and redelivers, as main.ts wires it.
      ...(options.webhookDeliveries ? { webhooks: inProcessWebhookPolicy } : {}),
      ...(options.settlementCurrencies ? { settlement: { model: 'deferred-net' as const, bankId: 'settlement' } } : {}),
    },
    ...(options.settlementCurrencies ? { settlement: settlementBankFake(options.settlementCurrencies) } : {}),
    authority: { clientMandates: new Map(callers.filter((caller) => caller.role === 'client').map((caller) => [caller.name, everyBank])), approvalFourEyes: true },
    rateLimitPerMinute: options.rateLimitPerMinute ?? 1_000,
    ...(options.clientTransferMaxMinor === undefined ? {} : { clientTransferMaxMinor: options.clientTransferMaxMinor }),
    transferOverdueAfterMs: 60_000,
    events: portFake<EventStore>('EventStore', options.events ?? {}),
    allowedWebhookHosts: options.allowedWebhookHosts ?? [],
    ...(options.webhookDeliveries ? { webhookDeliveries: options.webhookDeliveries } : {}),
    ...(options.webhookSecretOverlapMs === undefined ? {} : { webhookSecretOverlapMs: options.webhookSecretOverlapMs }),
  });
  const server = await listen(app);
  return {
    app,
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    keyFor: (name) => keys.get(name) ?? '',
    workflows,
    records,
    bankCalls: transport.calls,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // fetch keeps connections alive; close() would wait for them.
        server.closeAllConnections();
      }),
  };
}

function listen(app: Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}
