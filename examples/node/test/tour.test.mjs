// An app's tests against Understudy, with nothing but the understudy-jira package: the demo site
// on a free port, Jira's REST API with Basic auth, and a Forge function's product calls through
// the adapter (here made the way @forge/api 5.x makes them, with __forge_fetch__).
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';

import { startUnderstudy } from 'understudy-jira';
import { installForge } from 'understudy-jira/forge';

const bob = `Basic ${Buffer.from('bob@example.com:bob-demo-token').toString('base64')}`;
let site;
let forge;

before(async () => {
  site = await startUnderstudy();
  forge = await installForge({ site, accountId: '557058:bob' }); // the demo site's Forge app
});
after(async () => {
  forge.uninstall();
  await site.stop();
});
beforeEach(() => site.reset());

test('a user advances their own tour step', async () => {
  const url = `${site.baseUrl}/rest/api/3/user/properties/tour.progress?accountId=557058:bob`;
  const put = await fetch(url, { method: 'PUT', headers: { authorization: bob, 'content-type': 'application/json' },
    body: JSON.stringify({ step: 3 }) });
  assert.equal(put.status, 200);
  assert.deepEqual((await (await fetch(url, { headers: { authorization: bob } })).json()).value, { step: 3 });
});

test('a refusal explains itself in the journal', async () => {
  const put = await fetch(`${site.baseUrl}/rest/api/3/user/properties/x?accountId=557058:ada`, {
    method: 'PUT', headers: { authorization: bob, 'content-type': 'application/json' }, body: '1' });
  assert.equal(put.status, 403);
  const [entry] = await site.journal({ limit: 1 });
  assert.match(entry.explanation, /Administer Jira/);
});

test('a Forge function calls asUser and asApp', async () => {
  const asUser = await globalThis.__forge_fetch__({ type: 'fpp', provider: 'user', remote: 'jira' }, '/rest/api/3/myself');
  assert.equal((await asUser.json()).accountId, '557058:bob');
  const asApp = await globalThis.__forge_fetch__({ type: 'fpp', provider: 'app', remote: 'jira' }, '/rest/api/3/myself');
  assert.equal((await asApp.json()).accountType, 'app');
  forge.setUser(null);
  const nobody = await globalThis.__forge_fetch__({ type: 'fpp', provider: 'user', remote: 'jira' }, '/rest/api/3/myself');
  assert.equal(nobody.headers.get('forge-proxy-error'), 'NEEDS_AUTHENTICATION_ERR');
  forge.setUser('557058:bob');
});
