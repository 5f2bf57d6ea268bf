import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs, serverEnv, serverBinary } from './tests/server';

// The suite runs the release build that `make test` has just made (FERRODESK_BIN, FERRODESK_SITE_ROOT),
// on a port of its own so it never meets a `make run` on 3000.
const port = Number(process.env.E2E_PORT ?? 3100);
// Workers load this file again: the runner's choice of data directory reaches them through the environment,
// so tests can read the mail the server writes there.
process.env.E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), 'ferrodesk-e2e-'));
const dataDir = process.env.E2E_DATA_DIR;

export default defineConfig({
  testDir: './tests',
  // The longest journey takes ~12 s here; a CI run on a slower machine took 2.7 times as long for the suite.
  // A page that never loads still fails on its own, by the navigation timeout below.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // One server, two cores: tests run one after another.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: '/usr/bin/chromium', args: chromiumArgs },
    trace: 'retain-on-failure',
    navigationTimeout: 15_000,
  },
  webServer: {
    command: serverBinary(),
    url: `http://127.0.0.1:${port}/readyz`,
    env: serverEnv(port, dataDir),
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
