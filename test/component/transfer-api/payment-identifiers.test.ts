import type { TransferState } from '../../../lib/contracts/transfer-contract';
import { derivedUetr } from '../../../lib/record/transfer-identifiers';
import { apiCaller, type ApiCaller } from '../../support/http';
import { inProcessBankBic, startInProcessTransferApi, type InProcessTransferApi } from '../../support/in-process-transfer-api';
import { xsdErrors } from '../../support/xsd-validation';

/**
 * Payment identifiers and ISO 20022 renders at the API's edge, in-process over fakes of Temporal,
 * the record and the banks: UETR and end-to-end id validation, UETR uniqueness, replays, and the
 * pacs.002 / pacs.004 routes.
 */
const uuidV4 = /^[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}$/;

describe('payment identifiers and ISO 20022 renders', () => {
  let api: InProcessTransferApi;
  let clientA: ApiCaller;
  let clientB: ApiCaller;
  let operator: ApiCaller;

  beforeAll(async () => {
    api = await startInProcessTransferApi();
    clientA = apiCaller(api.baseUrl, api.keyFor('client-a'));
    clientB = apiCaller(api.baseUrl, api.keyFor('client-b'));
    operator = apiCaller(api.baseUrl, api.keyFor('operator'));
  });

  afterAll(async () => {
    await api?.stop();
  });

  const body = { source: { bankId: 'bank-a', accountId: 'uetr-a' }, target: { bankId: 'bank-b', accountId: 'uetr-b' }, amountMinor: '12050', currency: 'EUR' };
  const create = (caller: ApiCaller, key: string, extra: Record<string, unknown> = {}) => caller.post('/v1/transfers', { ...body, ...extra }, { 'idempotency-key': key });

  /** Writes the state the saga would have recorded, from the transfer's PENDING view. */
  function recordState(transferId: string, change: Partial<TransferState>): void {
    const record = api.records.inserted.find((inserted) => inserted._id === transferId);
    if (!record) throw new Error(`no record ${transferId}`);
    const { request } = record;
    api.records.recordState({
      transferId,
      source: request.source,
      target: request.target,
      amountMinor: request.amountMinor,
      currency: request.currency,
      requestedBy: record.client,
      needsAttention: false,
      createdAt: record.createdAt,
      updatedAt: new Date(Date.parse(record.createdAt) + 1_000).toISOString(),
      steps: [],
      status: 'PENDING',
      ...change,
    });
  }

  describe('validation', () => {
    test.each([
      ['an upper-case UETR', { uetr: '3F2A1C5E-8B7D-4E6F-9A0B-1C2D3E4F5A6B' }, 'uetr'],
      ['a UUID of version 1', { uetr: '3f2a1c5e-8b7d-1e6f-9a0b-1c2d3e4f5a6b' }, 'uetr'],
      ['a UETR without dashes', { uetr: '3f2a1c5e8b7d4e6f9a0b1c2d3e4f5a6b' }, 'uetr'],
      ['a UETR that is a number', { uetr: 42 }, 'uetr'],
      ['an empty end-to-end id', { endToEndId: '' }, 'endToEndId'],
      ['an end-to-end id of 36 characters', { endToEndId: 'E'.repeat(36) }, 'endToEndId'],
      ['an end-to-end id with a character outside the SWIFT X set', { endToEndId: 'INV_42' }, 'endToEndId'],
      ['an end-to-end id with markup', { endToEndId: 'A<B>' }, 'endToEndId'],
      ['an end-to-end id ending with a space', { endToEndId: 'INV 42 ' }, 'endToEndId'],
    ])('when a create has %s, then it is 400 VALIDATION_FAILED naming the field, and nothing is recorded', async (_name, extra, field) => {
      const before = api.records.inserted.length;
      const answer = await create(clientA, `invalid-${field}-${JSON.stringify(extra).length}`, extra);
      expect(answer.status).toBe(400);
      expect(answer.body.error?.code).toBe('VALIDATION_FAILED');
      expect(answer.body.error?.field).toBe(field);
      expect(api.records.inserted.length).toBe(before);
    });

    test("when a create has an end-to-end id of 35 SWIFT X characters, then it is accepted and the view shows it", async () => {
      const endToEndId = "A/-?:().,'+ 0123456789abcdefghijklm";
      expect(endToEndId).toHaveLength(35);
      const answer = await create(clientA, 'e2e-35', { endToEndId });
      expect(answer.status).toBe(202);
      expect(answer.body.endToEndId).toBe(endToEndId);
    });
  });

  describe('UETR', () => {
    test('when a create has no UETR, then the API generates a lower-case UUID v4 and records it, and the view has no end-to-end id', async () => {
      const answer = await create(clientA, 'generated-uetr');
      expect(answer.status).toBe(202);
      expect(answer.body.uetr).toMatch(uuidV4);
      expect(answer.body.endToEndId).toBeNull();
      expect(answer.body.isoStatus).toBe('ACTC');
      expect(answer.body.isoReasonCode).toBeNull();
      expect(api.records.inserted.find((record) => record._id === answer.body.id)?.uetr).toBe(answer.body.uetr);
    });

    test('when a create without a UETR is replayed with its key and body, then the same transfer answers with the same UETR', async () => {
      const first = await create(clientA, 'replay-generated');
      const again = await create(clientA, 'replay-generated');
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect([again.body.id, again.body.uetr]).toEqual([first.body.id, first.body.uetr]);
      expect(api.records.inserted.filter((record) => record._id === first.body.id)).toHaveLength(1);
    });

    test("when a create with the client's UETR and end-to-end id is replayed, then the same transfer answers with them; another UETR under the key is IDEMPOTENCY_KEY_REUSED", async () => {
      const uetr = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
      const first = await create(clientA, 'replay-client-uetr', { uetr, endToEndId: 'INV-1' });
      expect(first.status).toBe(202);
      expect([first.body.uetr, first.body.endToEndId]).toEqual([uetr, 'INV-1']);
      const again = await create(clientA, 'replay-client-uetr', { uetr, endToEndId: 'INV-1' });
      expect([again.status, again.body.id, again.body.uetr]).toEqual([200, first.body.id, uetr]);
      const other = await create(clientA, 'replay-client-uetr', { uetr: 'b1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', endToEndId: 'INV-1' });
      expect([other.status, other.body.error?.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    });

    test('when another transfer has the UETR (another key, or another client), then the create is 409 UETR_ALREADY_USED and nothing is recorded or started', async () => {
      const uetr = 'c1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
      expect((await create(clientA, 'uetr-owner', { uetr })).status).toBe(202);
      const recorded = api.records.inserted.length;
      const started = api.workflows.started.length;
      for (const [caller, key] of [[clientA, 'uetr-thief-1'], [clientB, 'uetr-thief-2']] as const) {
        const answer = await create(caller, key, { uetr });
        expect([answer.status, answer.body.error?.code, answer.body.error?.field]).toEqual([409, 'UETR_ALREADY_USED', 'uetr']);
      }
      expect(api.records.inserted.length).toBe(recorded);
      expect(api.workflows.started.length).toBe(started);
    });

    test('when a record written before UETRs is read, then its view has the UETR derived from its id, the same at every read', async () => {
      const answer = await create(clientA, 'legacy-record');
      const record = api.records.inserted.find((inserted) => inserted._id === answer.body.id);
      if (!record) throw new Error('not recorded');
      delete record.uetr;
      delete record.endToEndId;
      const first = await clientA.get(`/v1/transfers/${record._id}`);
      const second = await clientA.get(`/v1/transfers/${record._id}`);
      expect(first.body.uetr).toBe(derivedUetr(record._id));
      expect(first.body.uetr).toMatch(uuidV4);
      expect(second.body.uetr).toBe(first.body.uetr);
      expect(first.body.endToEndId).toBeNull();
    });
  });

  describe('GET /v1/banks', () => {
    test('when the banks are listed, then each has its BIC, or null when none is configured', async () => {
      const answer = await clientA.get('/v1/banks');
      expect(answer.body.data).toEqual([
        { bankId: 'bank-a', url: 'http://bank-a.invalid', bic: inProcessBankBic },
        { bankId: 'bank-b', url: 'http://bank-b.invalid', bic: null },
      ]);
    });
  });

  describe('XML routes', () => {
    test('when a pending transfer\'s pacs.002 is read by its client, then it is valid application/xml with ACTC, its UETR and end-to-end id', async () => {
      const created = await create(clientA, 'xml-pending', { endToEndId: 'E2E-PENDING' });
      const answer = await clientA.get(`/v1/transfers/${String(created.body.id)}/pacs002`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^application\/xml/);
      expect(await xsdErrors(answer.text, 'pacs.002.001.11')).toEqual([]);
      expect(answer.text).toContain('<TxSts>ACTC</TxSts>');
      expect(answer.text).toContain(`<OrgnlUETR>${String(created.body.uetr)}</OrgnlUETR>`);
      expect(answer.text).toContain('<OrgnlEndToEndId>E2E-PENDING</OrgnlEndToEndId>');
      expect(answer.text).toContain(`<BICFI>${inProcessBankBic}</BICFI>`);
    });

    test('when a rejected transfer is read, then the view and the pacs.002 both say RJCT with the reason code, and its pacs.004 is 409 TRANSFER_NOT_RETURNED', async () => {
      const created = await create(clientA, 'xml-rejected');
      const id = String(created.body.id);
      recordState(id, { status: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' });
      const view = await clientA.get(`/v1/transfers/${id}`);
      expect([view.body.status, view.body.isoStatus, view.body.isoReasonCode]).toEqual(['REJECTED', 'RJCT', 'AM04']);
      const report = await clientA.get(`/v1/transfers/${id}/pacs002`);
      expect(await xsdErrors(report.text, 'pacs.002.001.11')).toEqual([]);
      expect(report.text).toContain('<TxSts>RJCT</TxSts>');
      expect(report.text).toContain('<Cd>AM04</Cd>');
      const refused = await clientA.get(`/v1/transfers/${id}/pacs004`);
      expect([refused.status, refused.body.error?.code]).toEqual([409, 'TRANSFER_NOT_RETURNED']);
      expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    });

    test('when a refunded transfer\'s pacs.004 is read, then it is a valid return with the return reason, for the client and for an operator', async () => {
      const created = await create(clientA, 'xml-refunded', { endToEndId: 'E2E-REFUND' });
      const id = String(created.body.id);
      recordState(id, { status: 'REFUNDED', reason: 'ACCOUNT_FROZEN' });
      for (const caller of [clientA, operator]) {
        const answer = await caller.get(`/v1/transfers/${id}/pacs004`);
        expect(answer.status).toBe(200);
        expect(answer.headers.get('content-type')).toMatch(/^application\/xml/);
        expect(await xsdErrors(answer.text, 'pacs.004.001.10')).toEqual([]);
        expect(answer.text).toContain('<Cd>AC06</Cd>');
        expect(answer.text).toContain('<OrgnlEndToEndId>E2E-REFUND</OrgnlEndToEndId>');
      }
      expect((await clientA.get(`/v1/transfers/${id}`)).body.isoReasonCode).toBe('AC06');
    });

    test("when a client reads another client's transfer's messages, or an unknown transfer's, then it is 404 TRANSFER_NOT_FOUND", async () => {
      const created = await create(clientA, 'xml-private');
      const id = String(created.body.id);
      recordState(id, { status: 'REFUNDED', reason: 'CREDIT_FAILED' });
      for (const path of [`/v1/transfers/${id}/pacs002`, `/v1/transfers/${id}/pacs004`, '/v1/transfers/tr-unknown/pacs002', '/v1/transfers/tr-unknown/pacs004']) {
        const answer = await (path.includes(id) ? clientB : clientA).get(path);
        expect([path, answer.status, answer.body.error?.code]).toEqual([path, 404, 'TRANSFER_NOT_FOUND']);
      }
    });

    test('when the OpenAPI document is read, then both routes are there with their operation ids, XML answers and 4xx codes', async () => {
      const document = (await clientA.get('/openapi.json')).body as { paths: Record<string, Record<string, { operationId: string; responses: Record<string, { content?: Record<string, unknown> }> }>> };
      const pacs002 = document.paths['/v1/transfers/{id}/pacs002']?.get;
      const pacs004 = document.paths['/v1/transfers/{id}/pacs004']?.get;
      expect([pacs002?.operationId, pacs004?.operationId]).toEqual(['getTransferPacs002', 'getTransferPacs004']);
      expect(Object.keys(pacs002?.responses['200']?.content ?? {})).toEqual(['application/xml']);
      expect(Object.keys(pacs002?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '404']));
      expect(Object.keys(pacs004?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '404', '409']));
    });
  });
});
