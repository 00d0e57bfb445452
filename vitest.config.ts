import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real loopback servers; 2-core CI machines need room.
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Makes the test CA and sets NODE_EXTRA_CA_CERTS before the workers start, so that they (and
    // what they spawn) trust the HTTPS stand-ins: see test/support/test-ca.ts. That takes worker
    // processes: threads would share this process's trust store, fixed before the CA existed.
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
  },
})
