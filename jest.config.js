/** Jest runs TypeScript through ts-jest in transpile-only mode; `npm run typecheck` is the type gate. */
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };

module.exports = {
  testTimeout: 120_000,
  projects: [
    { displayName: 'unit', testEnvironment: 'node', transform, testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    // One app in-process over fakes of its ports, with real HTTP to it on 127.0.0.1: no cluster.
    { displayName: 'component', testEnvironment: 'node', transform, testMatch: ['<rootDir>/test/component/**/*.test.ts'] },
    { displayName: 'replay', testEnvironment: 'node', transform, testMatch: ['<rootDir>/test/replay/**/*.test.ts'] },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    },
  ],
};
