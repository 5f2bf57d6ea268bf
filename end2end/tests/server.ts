// How the tests start Ferrodesk: the binary and site that `make test` built, passed in the environment.
import { spawn, ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function serverBinary(): string {
  const bin = process.env.FERRODESK_BIN;
  if (!bin || !existsSync(bin)) {
    throw new Error(
      `FERRODESK_BIN must name the built server binary (got ${bin ?? 'nothing'}); run the suite with \`make test\`.`,
    );
  }
  return bin;
}

export function serverEnv(port: number, dataDir: string): Record<string, string> {
  const siteRoot = process.env.FERRODESK_SITE_ROOT;
  if (!siteRoot || !existsSync(siteRoot)) {
    throw new Error(`FERRODESK_SITE_ROOT must name the built site (got ${siteRoot ?? 'nothing'}).`);
  }
  return {
    PATH: process.env.PATH ?? '',
    FERRODESK_ADDR: `127.0.0.1:${port}`,
    FERRODESK_DATA_DIR: dataDir,
    FERRODESK_SITE_ROOT: siteRoot,
    RUST_LOG: 'warn',
    // Mail goes out within 0.2 s, and the whole suite's sign-ins (all from 127.0.0.1) stay under the limit.
    FERRODESK_MAIL_POLL_MS: '200',
    FERRODESK_AUTH_REQUESTS_PER_MINUTE: '1000',
    // This machine's DNS does not reach the internet, so an enquiry's MX check would only wait for its
    // timeout; the Rust tests cover the check against a DNS server of their own.
    FERRODESK_CHECK_MX: 'false',
    FERRODESK_ENQUIRIES_PER_IP_HOUR: '100',
  };
}

/** Starts a server of the test's own, which the test may stop. Resolves once it answers /readyz. */
export async function startServer(port: number, dataDir: string): Promise<ChildProcess> {
  const child = spawn(serverBinary(), [], { env: serverEnv(port, dataDir), stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the server did not become ready within 30 s');
}

/** Sends SIGTERM and waits for the process to exit. */
export async function stopServer(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}
