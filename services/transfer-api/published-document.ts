import { pino } from 'pino';
import { buildTransferApi, type TransferApiDeps } from './app';
import type { BankAccounts } from './gateways/bank-accounts';
import type { SettlementBank } from './gateways/settlement-bank';
import type { SettlementWindows } from './gateways/settlement-windows';
import type { SettlementConfig } from './settlement-config';

/**
 * A collaborator that answers no call: building the routes reads only what `members` gives, and
 * anything else throws, so the document cannot depend on a database, Temporal or a bank.
 */
function inert<T extends object>(name: string, members: Partial<T> = {}): T {
  return new Proxy(members, {
    get: (target, key) => {
      if (key in target) return (target as Record<string | symbol, unknown>)[key];
      if (key === 'then') return undefined;
      return () => {
        throw new Error(`${name}.${String(key)}: the published document's collaborators answer no call`);
      };
    },
  }) as T;
}

const settlementConfig: SettlementConfig = { model: 'deferred-net', bankId: 'settlement', url: 'http://settlement.invalid', currencies: ['EUR'], openingReserveMinor: 0n, openingNetDebitCapMinor: 0n, windowMinutes: 0 };

/**
 * The OpenAPI document with every route the API can serve (the settlement routes included), as
 * the defaults configure it: what `npm run api:types` generates the CLI's client from and what the
 * lint test checks. Built in-process, without a server or any collaborator.
 */
export function publishedOpenApiDocument(): object {
  const deps: TransferApiDeps = {
    logger: pino({ level: 'silent' }),
    apiKeys: [],
    workflows: inert('TransferWorkflows'),
    records: inert('TransferRecordStore'),
    banks: inert<BankAccounts>('BankAccounts', { directory: [] }),
    reconciliations: inert('Reconciliations'),
    policy: { approvalThresholdMinor: '1', approvalTimeoutMs: 1, amountMaxMinor: '1', banks: [], refundAttentionAfterAttempts: 1, settlement: { model: 'deferred-net', bankId: 'settlement' } },
    authority: { clientMandates: new Map(), approvalFourEyes: true },
    rateLimitPerMinute: 1,
    transferOverdueAfterMs: 1,
    events: inert('EventStore'),
    allowedWebhookHosts: [],
    settlement: inert<SettlementBank>('SettlementBank', { config: settlementConfig, model: 'deferred-net', participants: [] }),
    settlementWindows: inert<SettlementWindows>('SettlementWindows'),
  };
  return buildTransferApi(deps).document;
}
