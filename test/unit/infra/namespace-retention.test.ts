import { LauncherConfigError, localPlanFromEnv } from '../../../infra/local-plan';
import { namespaceRetentionHoursDefault } from '../../../infra/processes/temporal-dev-server';

const retentionHours = (value: string | undefined): number => localPlanFromEnv(value === undefined ? {} : { TEMPORAL_NAMESPACE_RETENTION: value }, '/tmp/project').temporal.namespaceRetentionHours;

describe('TEMPORAL_NAMESPACE_RETENTION', () => {
  test('when it is unset, then the launcher keeps closed workflows for the documented default of 72 hours', () => {
    expect(namespaceRetentionHoursDefault).toBe(72);
    expect(retentionHours(undefined)).toBe(72);
  });

  test.each([
    ['72h', 72],
    ['24h', 24],
    ['7d', 168],
    ['8760h', 8_760],
  ])('when it is %s, then the namespace keeps closed workflows for %i hours', (value, hours) => {
    expect(retentionHours(value)).toBe(hours);
  });

  test.each([
    ['23h', 'at least 24h'],
    ['0d', 'at least 24h'],
    ['8761h', 'at most 8760h'],
    ['366d', 'at most 8760h'],
    ['three days', 'expected whole hours or days'],
    ['72', 'expected whole hours or days'],
    ['1.5d', 'expected whole hours or days'],
    ['72m', 'expected whole hours or days'],
    ['', 'expected whole hours or days'],
  ])('when it is %j, then the launcher refuses to start with a message naming the variable (%s)', (value, reason) => {
    expect(() => retentionHours(value)).toThrow(LauncherConfigError);
    expect(() => retentionHours(value)).toThrow(`Invalid TEMPORAL_NAMESPACE_RETENTION: ${reason}`);
  });
});
