// Runs a Forge function's own code against Understudy: installs the two globals through which
// @forge/api (5.x and later) reaches the product — __forge_fetch__ and __forge_runtime__ — so that
// asApp(), asUser(), asUser(accountId) and plain requestJira call Understudy's API gateway as the
// right principal, with the app's scopes. No dependencies.

import { randomUUID } from 'node:crypto';

const NEEDS_AUTHENTICATION = 'NEEDS_AUTHENTICATION_ERR';
/** Tokens are minted again this long before they expire. */
const TOKEN_MARGIN_MS = 60_000;

/**
 * Installs the Forge globals for `app` on the Understudy `site`.
 *
 * @param {object} options
 * @param {{baseUrl: string, controlToken: string, cloudId?: string}} options.site
 *   the object `startUnderstudy()` resolves to, or any running site's base URL and control token.
 * @param {string | {name: string, scopes: string[], connectKey?: string, appId?: string}} [options.app]
 *   the Forge app: its appId, or a manifest-like description to install (its `permissions.scopes`);
 *   by default the site's only Forge app.
 * @param {string | null} [options.accountId] the current user (the invocation's `aaid`); null for
 *   none, as in a scheduled trigger.
 */
export async function installForge({ site, app, accountId = null, fetch: fetchImplementation = globalThis.fetch } = {}) {
  if (!site?.baseUrl || !site?.controlToken) {
    throw new TypeError('installForge needs site: {baseUrl, controlToken} (what startUnderstudy() resolves to).');
  }
  const harness = new ForgeHarness(site, fetchImplementation);
  await harness.install(app, accountId);
  return harness;
}

/** The installed Forge globals for one app; `uninstall()` puts back what was there before. */
export class ForgeHarness {
  constructor(site, fetchImplementation) {
    this.site = site;
    this._fetch = fetchImplementation;
    this._tokens = new Map();
    this._previous = null;
  }

  async install(app, accountId) {
    this.app = await this._resolveApp(app);
    this.cloudId = this.site.cloudId ?? (await (await this._fetch(`${this.site.baseUrl}/_edge/tenant_info`)).json()).cloudId;
    this.gatewayUrl = `${this.site.baseUrl}/ex/jira/${this.cloudId}`;
    this._previous = { fetch: globalThis.__forge_fetch__, runtime: globalThis.__forge_runtime__ };
    globalThis.__forge_fetch__ = (descriptor, path, init) => this.fetchProduct(descriptor, path, init);
    this.setUser(accountId);
    return this;
  }

  /** Changes the current user (`aaid`), as a new invocation by another user would; null for none. */
  setUser(accountId) {
    this.accountId = accountId ?? null;
    globalThis.__forge_runtime__ = this.runtime();
  }

  /** Forgets the tokens minted so far (they are minted again on the next call). */
  reset() {
    this._tokens.clear();
  }

  /** Removes the globals, putting back any that were installed before. */
  uninstall() {
    for (const [name, value] of [
      ['__forge_fetch__', this._previous?.fetch],
      ['__forge_runtime__', this._previous?.runtime],
    ]) {
      if (value === undefined) delete globalThis[name];
      else globalThis[name] = value;
    }
  }

  /** What the Forge runtime puts in `__forge_runtime__` for one invocation. */
  runtime() {
    const app = this.app;
    return {
      appContext: {
        appId: app.appId,
        appVersion: '1.0.0',
        environmentId: 'understudy',
        environmentType: 'DEVELOPMENT',
        invocationId: randomUUID(),
        installationId: app.installationId,
        moduleKey: 'understudy-test',
        license: undefined,
        installation: { installationId: app.installationId, contexts: [{ cloudId: this.cloudId, apiBaseUrl: this.gatewayUrl }] },
        permissions: { scopes: [...app.scopes] },
      },
      aaid: this.accountId ?? undefined,
      lambdaContext: { getRemainingTimeInMillis: () => 25_000 },
      metrics: {
        counter: () => ({ incr() {}, decr() {} }),
        gauge: () => ({ set() {} }),
        timing: () => ({ measure: () => ({ stop() {} }) }),
      },
    };
  }

  /**
   * `__forge_fetch__(descriptor, path, init)`: `descriptor.provider` picks the credential — `app`
   * an app system token, `user` an app user token for `descriptor.accountId` (or the current
   * user), `none` no credentials — and the call goes to the gateway as Forge's proxy sends it.
   */
  async fetchProduct(descriptor, path, init = {}) {
    const { provider, remote, accountId } = descriptor ?? {};
    if (remote !== 'jira') {
      throw new Error(`Understudy stands in for Jira only; this call went to remote '${remote}'.`);
    }
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new TypeError(`The product path must start with '/': ${String(path)}`);
    }
    let actingAs;
    switch (provider) {
      case 'app':
        actingAs = null;
        break;
      case 'user':
        actingAs = accountId ?? this.accountId;
        if (!actingAs) return needsAuthentication('asUser() was called with no user: the invocation has no aaid.');
        break;
      case 'none':
        return this._send(path, init, null);
      default:
        throw new Error(`Unknown Forge fetch provider '${provider}'.`);
    }
    let token = await this._token(actingAs);
    if (token instanceof Response) return token;
    let response = await this._send(path, init, token);
    if (response.status === 401 && replayable(init.body)) {
      // A site reset drops minted tokens; Forge's own tokens never go stale mid-invocation.
      const body = await response.clone().text();
      if (body === '{"code":401,"message":"Unauthorized"}') {
        this._tokens.delete(actingAs ?? '');
        token = await this._token(actingAs);
        if (token instanceof Response) return token;
        response = await this._send(path, init, token);
      }
    }
    return response;
  }

  async _send(path, init, token) {
    const headers = new Headers(init.headers ?? {});
    if (token) headers.set('authorization', `Bearer ${token}`);
    else headers.delete('authorization');
    return this._fetch(`${this.gatewayUrl}${path}`, { ...init, headers });
  }

  /** A cached token for the app user (null) or a person, or the NEEDS_AUTHENTICATION answer. */
  async _token(actingAs) {
    const key = actingAs ?? '';
    const cached = this._tokens.get(key);
    if (cached && cached.expiresAt - TOKEN_MARGIN_MS > Date.now()) return cached.token;
    const response = await this._control('POST', 'forge/tokens', actingAs ? { appId: this.app.appId, accountId: actingAs } : { appId: this.app.appId });
    if (response.status === 404 && actingAs) {
      return needsAuthentication(`${actingAs} is not an active person of the site: ${response.explanation}`);
    }
    if (!response.ok) throw new Error(`Understudy refused a Forge token: ${response.status} ${response.text}`);
    const minted = JSON.parse(response.text);
    this._tokens.set(key, { token: minted.token, expiresAt: Date.now() + minted.expiresIn * 1000 });
    return minted.token;
  }

  async _resolveApp(app) {
    if (app && typeof app === 'object' && !app.appId) {
      const created = await this._control('POST', 'forge/apps', app);
      if (!created.ok) throw new Error(`Understudy did not install the Forge app: ${created.status} ${created.text}`);
      return JSON.parse(created.text);
    }
    const listed = await this._control('GET', 'forge/apps');
    if (!listed.ok) throw new Error(`Understudy did not list its Forge apps: ${listed.status} ${listed.text}`);
    const apps = JSON.parse(listed.text).apps;
    const wanted = typeof app === 'string' ? app : app?.appId;
    if (wanted) {
      const found = apps.find((candidate) => candidate.appId === wanted);
      if (!found) throw new Error(`The site has no Forge app ${wanted}; it has ${apps.map((a) => a.appId).join(', ') || 'none'}.`);
      return found;
    }
    if (apps.length !== 1) {
      throw new Error(`Name the Forge app (its appId, or {name, scopes} to install one): the site has ${apps.length}.`);
    }
    return apps[0];
  }

  async _control(method, path, body) {
    const response = await this._fetch(`${this.site.baseUrl}/_understudy/${path}`, {
      method,
      headers: { authorization: `Bearer ${this.site.controlToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      ok: response.ok,
      status: response.status,
      text: await response.text(),
      explanation: response.headers.get('x-understudy-explain'),
    };
  }
}

/** What Forge's proxy answers when a user call has no user to act for. */
function needsAuthentication(reason) {
  return new Response(JSON.stringify({ code: 401, message: 'Unauthorized' }), {
    status: 401,
    headers: { 'content-type': 'application/json', 'forge-proxy-error': NEEDS_AUTHENTICATION, 'x-understudy-explain': reason },
  });
}

function replayable(body) {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array || body instanceof URLSearchParams;
}
