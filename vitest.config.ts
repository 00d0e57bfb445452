import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real loopback servers; 2-core CI machines need room.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
})
