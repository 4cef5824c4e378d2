import { businessRefusalCodes } from '../../../lib/contracts/error-codes';
import { transferStatuses } from '../../../lib/contracts/transfer-contract';
import { isoReasonCode, isoReasonCodes, isoStatusByTransferStatus, isoTransactionStatus } from '../../../lib/iso20022/status-codes';

/** The saga's own reasons and the API's pre-record refusals that reach a transfer's reason. */
const sagaReasons = ['APPROVAL_REJECTED', 'APPROVAL_TIMED_OUT', 'CANCELLED_BY_OPERATOR', 'CREDIT_FAILED', 'UNKNOWN_BANK', 'SAME_ACCOUNT', 'AMOUNT_TOO_LARGE', 'INVALID_AMOUNT', 'WORKFLOW_TERMINATED', 'TRANSFER_NOT_AUTHORISED'];
/** Four characters, upper case letters and digits: the external code lists' form. */
const externalCode = /^[A-Z0-9]{4}$/;

describe('ISO 20022 status table', () => {
  test('when each transfer status is reported, then pacs.002 gets the status the table documents', () => {
    expect(transferStatuses.map((status) => [status, isoTransactionStatus(status)])).toEqual([
      ['PENDING', 'ACTC'],
      ['AWAITING_APPROVAL', 'PDNG'],
      ['DEBITED', 'ACSP'],
      ['COMPLETED', 'ACSC'],
      ['REJECTED', 'RJCT'],
      ['COMPENSATING', 'PDNG'],
      ['REFUNDED', 'RJCT'],
      ['CANCELLED', 'RJCT'],
    ]);
    expect(Object.keys(isoStatusByTransferStatus).sort()).toEqual([...transferStatuses].sort());
  });
});

describe('ISO 20022 reason table', () => {
  test.each([
    ['ACCOUNT_NOT_FOUND', 'AC01'],
    ['ACCOUNT_CLOSED', 'AC04'],
    ['ACCOUNT_FROZEN', 'AC06'],
    ['INSUFFICIENT_FUNDS', 'AM04'],
    ['CURRENCY_MISMATCH', 'AM03'],
    ['DAILY_LIMIT_EXCEEDED', 'AM02'],
    ['AMOUNT_TOO_LARGE', 'AM02'],
    ['NET_DEBIT_CAP_EXCEEDED', 'AM04'],
    ['INSUFFICIENT_LIQUIDITY', 'AM04'],
    ['UNKNOWN_BANK', 'RC01'],
    ['SAME_ACCOUNT', 'AG01'],
    ['IDEMPOTENCY_CONFLICT', 'AM05'],
    ['CANCELLED_BY_OPERATOR', 'FOCR'],
    ['APPROVAL_REJECTED', 'NARR'],
    ['APPROVAL_TIMED_OUT', 'NARR'],
    ['CREDIT_FAILED', 'MS03'],
    ['WORKFLOW_TERMINATED', 'MS03'],
  ])('when a transfer ended for %s, then it is reported with %s as status and return reason', (reason, code) => {
    expect(isoReasonCodes(reason)).toEqual({ status: code, return: code });
  });

  test('when a reason is any ledger refusal or saga reason, then it has a listed code of the external lists\' form, not the NARR fallback', () => {
    for (const reason of [...businessRefusalCodes, ...sagaReasons]) {
      const codes = isoReasonCodes(reason);
      expect(codes.status).toMatch(externalCode);
      expect(codes.return).toMatch(externalCode);
    }
    // Only the two operator decisions are told in the narrative; every refusal has its own code.
    const narrated = [...businessRefusalCodes, ...sagaReasons].filter((reason) => isoReasonCodes(reason).status === 'NARR');
    expect(narrated.sort()).toEqual(['APPROVAL_REJECTED', 'APPROVAL_TIMED_OUT']);
  });

  test('when a reason is unknown to the table (or an Object member name), then it is NARR', () => {
    expect(isoReasonCodes('SOMETHING_NEW')).toEqual({ status: 'NARR', return: 'NARR' });
    expect(isoReasonCodes('toString')).toEqual({ status: 'NARR', return: 'NARR' });
  });

  test('when the view asks for its reason code, then a REFUNDED transfer gets the return reason, another the status reason, none without a reason', () => {
    expect(isoReasonCode('REFUNDED', 'CANCELLED_BY_OPERATOR')).toBe('FOCR');
    expect(isoReasonCode('REJECTED', 'INSUFFICIENT_FUNDS')).toBe('AM04');
    expect(isoReasonCode('CANCELLED', 'CANCELLED_BY_OPERATOR')).toBe('FOCR');
    expect(isoReasonCode('COMPLETED', undefined)).toBeNull();
    expect(isoReasonCode('PENDING', undefined)).toBeNull();
  });
});
