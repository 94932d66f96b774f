// A Connect app's installed handler, written with node:crypto only, checked against Understudy's
// signed installs: the key fetched by kid, RS256, aud, iss and qsh — and refusing a tampered one.
import assert from 'node:assert/strict';
import { createHash, verify } from 'node:crypto';
import { createServer } from 'node:http';
import { test } from 'node:test';

import { startUnderstudy } from '../index.mjs';

function decode(segment) {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

/** Verifies an installed call as Atlassian Connect Express 7.5 does; throws the reason to refuse. */
async function verifyInstall(authorization, body, { keyServer, baseUrl, path }) {
  const token = authorization?.startsWith('JWT ') ? authorization.slice(4) : null;
  if (!token) throw new Error('Unexpected or missing JWT token, failed to verify installation.');
  const [header, claims, signature] = token.split('.');
  const { alg, kid } = decode(header);
  if (alg !== 'RS256') throw new Error('Unexpected or missing JWT token, failed to verify installation.');
  const key = await fetch(`${keyServer}/${kid}`);
  if (!key.ok) throw new Error(`Invalid JWT: Could not get public key with keyId ${kid}`);
  const pem = (await key.text()).trim();
  if (!verify('RSA-SHA256', Buffer.from(`${header}.${claims}`), pem, Buffer.from(signature, 'base64url'))) {
    throw new Error('Unable to decode JWT token: invalid signature');
  }
  const payload = decode(claims);
  if (!Array.isArray(payload.aud) || payload.aud[0] !== baseUrl) {
    throw new Error('JWT claim did not contain the correct audience (aud) claim');
  }
  if (payload.iss !== body.clientKey) throw new Error('clientKey in install payload did not match authenticated client');
  if (payload.exp + 3 < Date.now() / 1000) throw new Error('Authentication request has expired.');
  const qsh = createHash('sha256').update(`POST&${path}&`).digest('hex');
  if (payload.qsh !== qsh) throw new Error('Authentication failed: query hash does not match.');
  return payload;
}

async function startApp(site, { failInstall = false } = {}) {
  const received = [];
  const server = createServer(async (request, response) => {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const { port } = server.address();
    const baseUrl = `http://127.0.0.1:${port}`;
    if (request.method === 'GET' && request.url === '/atlassian-connect.json') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({
        key: 'com.example.node-app', name: 'Node app', baseUrl, authentication: { type: 'jwt' }, scopes: ['read'],
        lifecycle: { installed: '/installed', uninstalled: '/uninstalled' },
        apiMigrations: { 'signed-install': true },
        modules: { generalPages: [{ key: 'tour-page', url: '/tour', name: { value: 'Tour' } }] },
      }));
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    try {
      const claims = await verifyInstall(request.headers.authorization, body, {
        keyServer: `${site.baseUrl}/connect-install-keys`, baseUrl, path: request.url });
      received.push({ path: request.url, body, claims });
      response.writeHead(failInstall ? 500 : 204);
      response.end(failInstall ? 'the database is down' : undefined);
    } catch (error) {
      received.push({ path: request.url, body, refusal: error.message });
      response.writeHead(401);
      response.end(error.message);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { received, descriptorUrl: `http://127.0.0.1:${port}/atlassian-connect.json`, close: () => server.close() };
}

test('a signed install verifies with the key fetched by kid, and uninstall is signed the same way', async () => {
  const site = await startUnderstudy();
  const app = await startApp(site);
  try {
    const result = await site.installConnectApp({ descriptorUrl: app.descriptorUrl });
    assert.equal(result.outcome, 'installed', JSON.stringify(result));
    assert.equal(app.received[0].refusal, undefined);
    assert.equal(app.received[0].claims.iss, result.clientKey);
    assert.equal(app.received[0].body.baseUrl, site.baseUrl);
    assert.match(result.calls[0].authorization, /^JWT RS256, kid /);

    const removed = await site.uninstallConnectApp('com.example.node-app');
    assert.equal(removed.outcome, 'uninstalled');
    assert.equal(app.received[1].path, '/uninstalled');
    assert.equal(app.received[1].refusal, undefined);
  } finally {
    app.close();
    await site.stop();
  }
});

test('a tampered install is refused by the handler, and a failing handler leaves the install incomplete', async () => {
  const site = await startUnderstudy();
  const careful = await startApp(site);
  try {
    for (const tamper of ['wrong-issuer', 'unknown-kid', 'context-qsh', 'symmetric']) {
      const result = await site.installConnectApp({ descriptorUrl: careful.descriptorUrl, tamper });
      assert.equal(result.outcome, 'tampered');
      assert.equal(result.appRefused, true, `${tamper}: ${careful.received.at(-1).refusal}`);
    }
  } finally {
    careful.close();
  }
  const failing = await startApp(site, { failInstall: true });
  try {
    const result = await site.installConnectApp({ descriptorUrl: failing.descriptorUrl });
    assert.equal(result.outcome, 'incomplete');
    assert.equal(result.calls[0].status, 500);
    assert.equal(result.calls[0].body, 'the database is down');
    const rejected = await site.installConnectApp({ descriptorUrl: `${site.baseUrl}/nothing-here.json` });
    assert.equal(rejected.outcome, 'rejected');
    assert.match(rejected.problem, /could not be fetched/);
  } finally {
    failing.close();
    await site.stop();
  }
});

test('a session opens the app page as the person, and AP.request calls run as them within the app scopes', async () => {
  const site = await startUnderstudy();
  const app = await startApp(site);
  try {
    const result = await site.installConnectApp({ descriptorUrl: app.descriptorUrl });
    assert.equal(result.outcome, 'installed');
    const cookie = await site.sessionCookie('557058:bob');
    assert.match(cookie, /^understudy_session=/);

    const page = await fetch(`${site.baseUrl}/plugins/servlet/ac/com.example.node-app/tour-page`, { headers: { cookie } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy'), /frame-src http:\/\/127\.0\.0\.1:\d+;/);
    assert.match(await page.text(), /id="understudy-app-frame"[^>]*src="http:\/\/127\.0\.0\.1:\d+\/tour\?xdm_e=/);

    // What the host page's script does for AP.request: the app declares READ only.
    const relay = (body) => fetch(`${site.baseUrl}/understudy-host/connect/com.example.node-app/request`, {
      method: 'POST', headers: { cookie, origin: site.baseUrl, 'content-type': 'application/json' },
      body: JSON.stringify(body) });
    const read = await relay({ url: '/rest/api/3/myself', type: 'GET' });
    assert.equal(read.status, 200);
    assert.equal(JSON.parse((await read.json()).body).accountId, '557058:bob');
    const write = await (await relay({ url: '/rest/api/3/user/properties/tour?accountId=557058:bob', type: 'PUT',
      contentType: 'application/json', data: '{"step":1}' })).json();
    assert.equal(write.status, 403);
    assert.match(write.explanation, /Connect scopes, not by the user's permissions/);

    const elsewhere = await fetch(`${site.baseUrl}/understudy-host/connect/com.example.node-app/request`, {
      method: 'POST', headers: { cookie, origin: 'http://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ url: '/rest/api/3/myself' }) });
    assert.equal(elsewhere.status, 403);
  } finally {
    app.close();
    await site.stop();
  }
});
