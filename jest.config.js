/** Type checking is `npm run typecheck`'s job; jest only transpiles, which keeps the suites fast. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 30000,
  // Jest's default on two cores is one worker, which leaves the second core idle while a suite waits on the
  // emulator, a local table or a child process: two workers keep both busy.
  maxWorkers: 2,
};
