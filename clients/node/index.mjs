// Starts and stops an Understudy process for a test run, and talks to its control API.
// No dependencies: Node's child_process, fs and global fetch only.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Where the understudy binary is: the one named, else $UNDERSTUDY_BINARY, else the one bundled
 * with this package, else the newer of this repository's release and debug builds, else
 * `understudy` on PATH.
 */
export function findBinary(explicit) {
  for (const named of [explicit, process.env.UNDERSTUDY_BINARY]) {
    if (!named) continue;
    if (!existsSync(named)) throw new Error(`The understudy binary ${named} does not exist.`);
    return named;
  }
  const bundled = join(here, 'bin', 'understudy');
  if (existsSync(bundled)) return bundled;
  const built = ['release', 'debug']
    .map((configuration) => join(here, '..', '..', '.build', configuration, 'understudy'))
    .filter((path) => existsSync(path))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  // Last resort: an `understudy` on PATH; spawn reports ENOENT if there is none.
  return built[0] ?? 'understudy';
}

/** An error from the control API, with Understudy's explanation. */
export class UnderstudyControlError extends Error {
  constructor(method, path, status, body, explanation) {
    super(`${method} ${path} answered ${status}: ${explanation ?? body}`);
    this.name = 'UnderstudyControlError';
    this.status = status;
    this.body = body;
    this.explanation = explanation;
  }
}

/**
 * Starts `understudy serve` on a free 127.0.0.1 port over an in-memory site (the demo site, or
 * `seed`), and resolves once it listens.
 */
export async function startUnderstudy(options = {}) {
  const {
    binary,
    seed,
    database = ':memory:',
    host = '127.0.0.1',
    port = 0,
    controlToken = randomBytes(16).toString('hex'),
    args = [],
    env = {},
    startTimeoutMs = 30_000,
  } = options;
  const executable = findBinary(binary);
  const argv = ['serve', '--host', host, '--port', String(port), '--database', database, '--control-token', controlToken];
  if (seed) argv.push('--seed', seed);
  argv.push(...args);
  const child = spawn(executable, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

  // The last 64 KiB the server printed, for errors: bounded, however long the run.
  let output = '';
  const remember = (chunk) => {
    output = (output + chunk).slice(-65_536);
  };
  const started = new Promise((resolve, reject) => {
    let cloudId;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Understudy did not start within ${startTimeoutMs} ms. Its output:\n${output}`));
    }, startTimeoutMs);
    const onLine = (line) => {
      const site = /^Site cloudId ([0-9a-f-]+);/.exec(line);
      if (site) cloudId = site[1];
      const listening = /^Understudy is listening on (\S+)/.exec(line);
      if (listening) {
        clearTimeout(timer);
        resolve({ baseUrl: listening[1], cloudId });
      }
    };
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      remember(chunk);
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop();
      lines.forEach(onLine);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', remember);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`Understudy could not be started from ${executable}: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Understudy exited (${signal ?? `code ${code}`}) before listening. Its output:\n${output}`));
    });
  });
  const { baseUrl, cloudId } = await started;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Keep draining its output so a chatty server never blocks on a full pipe.
  child.stdout.resume();
  child.stderr.resume();
  return new UnderstudySite({ baseUrl, cloudId, controlToken, child, exited, output: () => output });
}

/** A running Understudy site: its URLs, its control API, and how to stop it. */
export class UnderstudySite {
  constructor({ baseUrl, cloudId, controlToken, child, exited, output }) {
    this.baseUrl = baseUrl;
    this.cloudId = cloudId;
    this.controlToken = controlToken;
    this.gatewayUrl = `${baseUrl}/ex/jira/${cloudId}`;
    this.process = child;
    this._exited = exited;
    this._output = output;
  }

  /** Calls the control API (`/_understudy/…`); resolves to the parsed JSON, or null for no body. */
  async control(method, path, body) {
    const response = await fetch(`${this.baseUrl}/_understudy/${path.replace(/^\//, '')}`, {
      method,
      headers: {
        authorization: `Bearer ${this.controlToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new UnderstudyControlError(method, path, response.status, text, response.headers.get('x-understudy-explain'));
    }
    return text ? JSON.parse(text) : null;
  }

  /** Puts the site back as it was when the server started. */
  async reset() {
    await this.control('POST', 'reset');
  }

  /** The request journal, newest first; filters: `path`, `caller`, `status`, `limit`. */
  async journal(filters = {}) {
    const query = new URLSearchParams(Object.entries(filters).map(([key, value]) => [key, String(value)]));
    const suffix = query.toString() ? `?${query}` : '';
    return (await this.control('GET', `requests${suffix}`)).requests;
  }

  /** A Forge app system token (no accountId) or app user token, as Forge hands a remote. */
  async forgeToken({ appId, accountId } = {}) {
    return this.control('POST', 'forge/tokens', accountId === undefined ? { appId } : { appId, accountId });
  }

  /**
   * Installs a Connect app from its descriptor as Jira does, calling its lifecycle URLs. Resolves to
   * the result whatever became of it: `outcome` is `installed`, `incomplete`, `rejected` or
   * `tampered` (with `appRefused`), and `calls` lists each lifecycle call.
   */
  async installConnectApp({ descriptorUrl, signing = 'signed', tamper } = {}) {
    const body = tamper === undefined ? { descriptorUrl, signing } : { descriptorUrl, signing, tamper };
    return this._installResult('POST', 'connect/installations', body);
  }

  /** Calls the app's disabled and uninstalled URLs and marks it uninstalled. */
  async uninstallConnectApp(key) {
    return this._installResult('DELETE', `connect/installations/${encodeURIComponent(key)}`);
  }

  /**
   * A signed-in session for a person of the site, as `name=value` for a `Cookie` header or a
   * browser: the host pages open as that person. Sessions last 12 hours by the site clock.
   */
  async sessionCookie(accountId) {
    return (await this.control('POST', 'sessions', { accountId })).cookie;
  }

  async _installResult(method, path, body) {
    try {
      return await this.control(method, path, body);
    } catch (error) {
      if (!(error instanceof UnderstudyControlError)) throw error;
      let result;
      try {
        result = JSON.parse(error.body);
      } catch {
        throw error;
      }
      if (result && typeof result === 'object' && 'outcome' in result) return result;
      throw error;
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL after `graceMs`) and waits for it to exit. */
  async stop({ graceMs = 5000 } = {}) {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this._exited;
    clearTimeout(timer);
  }

  /** The last 64 KiB the server printed (for a failing test's report). */
  get output() {
    return this._output();
  }
}
