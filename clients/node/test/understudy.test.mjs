// startUnderstudy(): a real process for a test run, its control API, and how it fails.
import assert from 'node:assert/strict';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { startUnderstudy, UnderstudyControlError } from '../index.mjs';

test('starts the demo site on a free port, answers Jira, resets and stops', async () => {
  const site = await startUnderstudy();
  try {
    assert.match(site.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(site.gatewayUrl, `${site.baseUrl}/ex/jira/${site.cloudId}`);
    const basic = `Basic ${Buffer.from('bob@example.com:bob-demo-token').toString('base64')}`;
    const put = await fetch(`${site.baseUrl}/rest/api/3/user/properties/fresh?accountId=557058:bob`, {
      method: 'PUT', headers: { authorization: basic, 'content-type': 'application/json' }, body: '1' });
    assert.equal(put.status, 201);
    await site.reset();
    const get = await fetch(`${site.baseUrl}/rest/api/3/user/properties/fresh?accountId=557058:bob`, {
      headers: { authorization: basic } });
    assert.equal(get.status, 404, 'reset put the site back');
    const token = await site.forgeToken({ appId: 'ari:cloud:ecosystem::app/3f2c9a1e-7b4d-4e6f-8a9b-0c1d2e3f4a5b' });
    assert.equal(token.kind, 'app-system-token');
    assert.equal(token.expiresIn, 14400);
    const myself = await fetch(`${site.gatewayUrl}/rest/api/3/myself`, { headers: { authorization: `Bearer ${token.token}` } });
    assert.equal((await myself.json()).accountType, 'app');
    await assert.rejects(site.forgeToken({ appId: 'ari:cloud:ecosystem::app/none' }), (error) => {
      assert.ok(error instanceof UnderstudyControlError);
      assert.equal(error.status, 404);
      return true;
    });
  } finally {
    await site.stop();
  }
  assert.notEqual(site.process.exitCode ?? site.process.signalCode, null, 'the process has exited');
});

test('a bad site file fails the start with Understudy’s own message', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'understudy-node-'));
  const seed = join(directory, 'site.json');
  await writeFile(seed, '{"users": [{"accountId": ""}]}');
  await assert.rejects(startUnderstudy({ seed }), /exited .* before listening[\s\S]*users\[0\]/);
});

test('a missing binary is named', async () => {
  await assert.rejects(startUnderstudy({ binary: '/nonexistent/understudy' }), /does not exist/);
});
