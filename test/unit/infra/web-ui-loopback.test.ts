import { temporalDevServerArgs } from '../../../infra/processes/temporal-dev-server';

/**
 * The dev server's Web UI hands the codec endpoint, token included, to every browser that opens
 * it: the launcher keeps the UI on loopback even when the cluster binds every interface.
 */
describe('the local Web UI stays on loopback', () => {
  const options = { binary: 'temporal', dataDir: '/tmp/x', port: 7233, uiPort: 8233, ui: true, namespace: 'default', namespaceRetentionHours: 72, uiCodecEndpoint: 'http://127.0.0.1:8234/token' };

  test('when BIND_HOST is 0.0.0.0, then the frontend binds it and the UI binds 127.0.0.1', () => {
    const args = temporalDevServerArgs({ ...options, host: '0.0.0.0' });
    expect(args[args.indexOf('--ip') + 1]).toBe('0.0.0.0');
    expect(args[args.indexOf('--ui-ip') + 1]).toBe('127.0.0.1');
    expect(args[args.indexOf('--ui-codec-endpoint') + 1]).toBe('http://127.0.0.1:8234/token');
  });

  test('when the UI is off, then no UI address is passed', () => {
    expect(temporalDevServerArgs({ ...options, host: '127.0.0.1', ui: false })).not.toContain('--ui-ip');
  });
});
