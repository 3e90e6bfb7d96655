import { defineConfig } from "vitest/config";

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources in tests, so a
  // unit test never runs against a stale dist/. Vitest loads test modules
  // through Vite's SSR pipeline, which takes its conditions from `ssr`.
  resolve: { conditions: ["signet-source"] },
  ssr: { resolve: { conditions: ["signet-source"], externalConditions: ["signet-source"] } },
  test: {
    include: ["**/src/**/*.test.ts", "test/e2e/**/*.test.ts", "bench/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most test files wait on child processes and sockets, not the CPU: three files at a time on two
    // cores took the suite from 13.9 to 6.1 minutes (vitest's default is one file at a time here).
    maxWorkers: 3,
    minWorkers: 1,
    reporters: ["default"],
  },
});
