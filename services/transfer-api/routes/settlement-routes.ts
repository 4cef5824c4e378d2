import { z } from 'zod';
import { minorOrZeroSchema } from '../../../lib/contracts/account-service-contract';
import { windowIdPattern } from '../../../lib/contracts/settlement';
import { ApiError } from '../../../lib/http/errors';
import { changeIdOf, changeKeyHeaders } from '../http/change-key';
import { defineRoute, type AnyRouteSpec } from '../http/route-table';
import type { Caller } from '../http/auth';
import type { ParticipantRow, SettlementBank } from '../gateways/settlement-bank';
import type { SettlementWindows } from '../gateways/settlement-windows';
import { banksOfMandate, type Mandate } from '../mandates';
import { accountIdSchema, amountMinorSchema, bankIdSchema, currencySchema, timestampSchema } from '../schemas';

const participantRowSchema = z
  .object({
    bankId: z.string(),
    currency: z.string(),
    reserveMinor: z.string().meta({ description: "The bank's funds at the settlement bank." }),
    netDebitCapMinor: z.string().nullable().meta({ description: 'Deferred-net: the most the bank may owe; never above its reserve. Null in immediate-gross.' }),
    positionMinor: z.string().meta({ description: 'What the bank owes and has not settled (negative when it is owed); 0 in immediate-gross.' }),
    availableMinor: z.string().meta({ description: 'What the bank may still send: its cap less what it owes (deferred-net), or its reserve (immediate-gross).' }),
  })
  .meta({ id: 'SettlementParticipant' });

const participantsSchema = z
  .object({ model: z.enum(['DEFERRED_NET', 'IMMEDIATE_GROSS']), data: z.array(participantRowSchema) })
  .meta({ id: 'SettlementParticipants' });

const liquidityBodySchema = z
  .strictObject({ fundsId: accountIdSchema.meta({ description: 'Chosen by the operator; the same fundsId again answers the first decision.', example: 'wire-2026-12-01-001' }), amountMinor: amountMinorSchema, currency: currencySchema })
  .meta({ id: 'LiquidityRequest' });

const netDebitCapBodySchema = z.strictObject({ amountMinor: minorOrZeroSchema, currency: currencySchema }).meta({ id: 'NetDebitCapRequest' });

const windowIdSchema = z.string().regex(windowIdPattern, 'is not a settlement window id (w-000001)');

const windowSchema = z
  .object({
    windowId: z.string(),
    state: z.enum(['OPEN', 'CLOSED', 'SETTLING', 'SETTLED']),
    openedAt: timestampSchema,
    closedAt: timestampSchema.nullable(),
    settledAt: timestampSchema.nullable(),
    transfers: z.number().int().meta({ description: 'Completed transfers whose reservation was decided in the window.' }),
    inFlight: z.number().int().meta({ description: 'Transfers of the window not ended yet; a closed window settles once none is left.' }),
    positions: z.array(z.object({ bankId: z.string(), currency: z.string(), netMinor: z.string().meta({ description: 'What the bank receives from the window (negative: what it pays).' }) })),
    entries: z.array(z.object({ bankId: z.string(), currency: z.string(), accountId: z.string(), operationId: z.string(), amountMinor: z.string() })).meta({ description: "The settlement bank's entries that settled the window (empty before it is SETTLED)." }),
  })
  .meta({ id: 'SettlementWindow' });

const windowPageSchema = z.object({ data: z.array(windowSchema), nextCursor: z.string().nullable() }).meta({ id: 'SettlementWindowPage' });
const windowListQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(20), cursor: windowIdSchema.optional() });

const bankParams = z.strictObject({ bankId: bankIdSchema });
const settlementUnavailable = { 503: { codes: ['BANK_UNAVAILABLE'], description: 'BANK_UNAVAILABLE: the settlement bank did not answer, or could not serve the request (Retry-After).' } } as const;
const settlementErrors = { 404: ['BANK_NOT_FOUND'], ...settlementUnavailable } as const;
const fundsIdMax = 54;

/** A client sees the rows of the banks its mandate names (every bank with `*`); an operator sees all. */
function visibleTo(caller: Caller, mandates: ReadonlyMap<string, Mandate>, rows: readonly ParticipantRow[]): ParticipantRow[] {
  if (caller.role === 'operator') return [...rows];
  const mandate = mandates.get(caller.name);
  if (!mandate) return [];
  if (mandate.kind === 'every-bank') return [...rows];
  const banks = new Set(banksOfMandate(mandate));
  return rows.filter((row) => banks.has(row.bankId));
}

function assertFundsId(fundsId: string): void {
  if (fundsId.length > fundsIdMax) throw new ApiError('VALIDATION_FAILED', `fundsId must be at most ${fundsIdMax} characters`, 'fundsId');
}

const liquidity = {
  'funds-in': {
    summary: "Pay funds into a participant's reserve",
    description: 'Idempotent by fundsId: the same request again answers the same row and adds nothing.',
    refusals: { 400: { codes: ['VALIDATION_FAILED'], description: 'Also for a currency the settlement bank does not hold.' }, 409: { codes: ['IDEMPOTENCY_CONFLICT'], description: 'IDEMPOTENCY_CONFLICT: the fundsId was used with other fields.' } },
  },
  'funds-out': {
    summary: "Pay funds out of a participant's reserve",
    description: 'Never below the Net Debit Cap (deferred-net), which is never below what the bank owes, and never below zero (immediate-gross): 422 INSUFFICIENT_LIQUIDITY. Idempotent by fundsId.',
    refusals: { 400: { codes: ['VALIDATION_FAILED'], description: 'Also for a currency the settlement bank does not hold.' }, 409: ['IDEMPOTENCY_CONFLICT'], 422: ['INSUFFICIENT_LIQUIDITY'] },
  },
} as const;

/** A funds-in or funds-out of a participant's reserve, idempotent by fundsId. */
function liquidityRoute(settlement: SettlementBank, direction: keyof typeof liquidity): AnyRouteSpec {
  const { summary, description, refusals } = liquidity[direction];
  return defineRoute({
    method: 'post',
    path: `/v1/settlement/participants/:bankId/${direction}`,
    operationId: direction === 'funds-in' ? 'payFundsIn' : 'payFundsOut',
    summary,
    description,
    tag: 'settlement',
    roles: ['operator'],
    params: bankParams,
    body: liquidityBodySchema,
    responses: { 200: { description: `The participant after the ${direction}`, schema: participantRowSchema } },
    errors: { ...settlementErrors, ...refusals },
    handler: async ({ params, body }) => {
      assertFundsId(body.fundsId);
      return { status: 200, body: await (direction === 'funds-in' ? settlement.fundsIn(params.bankId, body) : settlement.fundsOut(params.bankId, body)) };
    },
  });
}

/** Deferred-net windows: read by operators and participants, closed by operators (or the schedule). */
export function settlementWindowRoutes(windows: SettlementWindows): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/settlement/windows',
      operationId: 'listSettlementWindows',
      summary: 'List settlement windows, newest first',
      tag: 'settlement',
      roles: ['client', 'operator'],
      query: windowListQuery,
      responses: { 200: { description: 'One page of windows', schema: windowPageSchema } },
      errors: settlementUnavailable,
      handler: async ({ query }) => ({ status: 200, body: await windows.list(query.limit, query.cursor) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/settlement/windows/:windowId',
      operationId: 'getSettlementWindow',
      summary: 'Get a settlement window with its positions',
      tag: 'settlement',
      roles: ['client', 'operator'],
      params: z.strictObject({ windowId: windowIdSchema }),
      responses: { 200: { description: 'The window', schema: windowSchema } },
      errors: { 404: ['NOT_FOUND'], ...settlementUnavailable },
      handler: async ({ params }) => {
        const window = await windows.get(params.windowId);
        if (!window) throw new ApiError('NOT_FOUND', `no settlement window ${params.windowId}`, 'windowId');
        return { status: 200, body: window };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/settlement/windows/close',
      operationId: 'closeSettlementWindow',
      summary: 'Close the open settlement window and settle it',
      description: 'Opens the next window at once; transfers in flight stay in the window they reserved in, and the closed window is settled by a Temporal workflow (settlement-window-<windowId>) once they have ended. A second close before the next window opens answers the same ids.',
      tag: 'settlement',
      roles: ['operator'],
      responses: { 202: { description: 'Closing', schema: z.object({ windowId: z.string(), nextWindowId: z.string() }).meta({ id: 'SettlementWindowClose' }) } },
      errors: { 503: { codes: ['TEMPORARILY_UNAVAILABLE'], description: 'No window is open yet (Retry-After).' } },
      handler: async ({ caller }) => ({ status: 202, body: await windows.close(caller.name) }),
    }),
  ];
}

/** The participants' liquidity at the settlement bank: read by operators and participants, changed by operators. */
export function settlementRoutes(settlement: SettlementBank, mandates: ReadonlyMap<string, Mandate>): AnyRouteSpec[] {
  const model = settlement.model === 'deferred-net' ? 'DEFERRED_NET' : 'IMMEDIATE_GROSS';
  return [
    defineRoute({
      method: 'get',
      path: '/v1/settlement/participants',
      operationId: 'listSettlementParticipants',
      summary: "List the participants' reserves, caps and positions",
      description: 'One row per participant bank and settlement currency, read from the settlement bank. A client sees the rows of the banks its mandate names.',
      tag: 'settlement',
      roles: ['client', 'operator'],
      responses: { 200: { description: 'The participants', schema: participantsSchema } },
      errors: settlementUnavailable,
      handler: async ({ caller }) => ({ status: 200, body: { model, data: visibleTo(caller, mandates, await settlement.rows()) } }),
    }),
    liquidityRoute(settlement, 'funds-in'),
    liquidityRoute(settlement, 'funds-out'),
    defineRoute({
      method: 'put',
      path: '/v1/settlement/participants/:bankId/net-debit-cap',
      operationId: 'setNetDebitCap',
      summary: "Set a participant's Net Debit Cap (deferred-net)",
      description: 'Never above the reserve (422 NET_DEBIT_CAP_ABOVE_RESERVE) and never below what the bank owes now (422 NET_DEBIT_CAP_BELOW_POSITION). Decided in the position account\'s ledger chain, in order with the reservations. Needs an Idempotency-Key: a repeat answers the first decision.',
      tag: 'settlement',
      roles: ['operator'],
      params: bankParams,
      body: netDebitCapBodySchema,
      headers: changeKeyHeaders,
      responses: { 200: { description: 'The participant with its new cap', schema: participantRowSchema } },
      errors: {
        ...settlementErrors,
        400: { codes: ['VALIDATION_FAILED'], description: 'Also in immediate-gross, which has no cap, for a currency the settlement bank does not hold, and for a missing or malformed Idempotency-Key.' },
        422: ['NET_DEBIT_CAP_ABOVE_RESERVE', 'NET_DEBIT_CAP_BELOW_POSITION', 'IDEMPOTENCY_KEY_REUSED'],
      },
      handler: async ({ params, body, request }) => ({ status: 200, body: await settlement.setNetDebitCap(params.bankId, body.currency, body.amountMinor, changeIdOf(request)) }),
    }),
  ];
}
