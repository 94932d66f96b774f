// A Forge function's own code, run unmodified against a real Understudy process through the
// adapter, with @forge/api's product fetch reproduced by the stand-in in node_modules/@forge/api.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import api, { NeedsAuthenticationError, route } from '@forge/api';

import { startUnderstudy } from '../index.mjs';
import { installForge } from '../forge.mjs';
import * as tourApp from './fixtures/tour-app/src/index.mjs';

const seed = fileURLToPath(new URL('./fixtures/site.json', import.meta.url));
const tourAppId = 'ari:cloud:ecosystem::app/4e0b6a52-90f1-4d3c-b2a7-6c5d4e3f2a10';
const readOnlyAppId = 'ari:cloud:ecosystem::app/9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';

describe('a Forge function against Understudy', () => {
  let site;
  let forge;

  before(async () => {
    site = await startUnderstudy({ seed });
    forge = await installForge({ site, app: tourAppId, accountId: '557058:bob' });
  });
  after(async () => {
    forge?.uninstall();
    await site?.stop();
  });
  beforeEach(async () => {
    await site.reset();
    forge.setUser('557058:bob');
  });

  test('asUser saves the current user’s own property, as that user', async () => {
    assert.deepEqual(await tourApp.saveProgress({ payload: { step: 4 } }), { status: 200 });
    const [entry] = await site.journal({ limit: 1 });
    assert.equal(entry.method, 'PUT');
    assert.deepEqual(entry.caller, { type: 'forge', appId: tourAppId, accountId: '557058:bob' });
    forge.setUser('557058:ada');
    assert.deepEqual(await tourApp.saveProgress({ payload: { step: 1 } }), { status: 201 });
  });

  test('asApp may not read another user’s property, and the explanation names the missing scope', async () => {
    const { status, body } = await tourApp.progressOf('557058:bob');
    assert.equal(status, 403);
    assert.deepEqual(body, { errorMessages: ['You do not have permission to access the properties of this user.'], errors: {} });
    const [entry] = await site.journal({ limit: 1 });
    assert.match(entry.explanation, /does not list manage:jira-configuration/);
    assert.equal(entry.caller.accountId, forge.app.appUser.accountId);
  });

  test('asUser(accountId) acts for that user: an administrator reads another user’s property', async () => {
    const response = await api
      .asUser('557058:ada')
      .requestJira(route`/rest/api/3/user/properties/tour.progress?accountId=${'557058:bob'}`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { key: 'tour.progress', value: { step: 3, done: false } });
  });

  test('asUser with no user throws NeedsAuthenticationError, as in a trigger', async () => {
    forge.setUser(null);
    await assert.rejects(tourApp.saveProgress({ payload: { step: 1 } }), (error) => {
      assert.ok(error instanceof NeedsAuthenticationError);
      assert.equal(error.name, 'NEEDS_AUTHENTICATION_ERR');
      assert.equal(error.status, 401);
      return true;
    });
  });

  test('asUser for someone who cannot sign in throws NeedsAuthenticationError too', async () => {
    await assert.rejects(
      api.asUser('557058:dave').requestJira(route`/rest/api/3/myself`),
      (error) => error instanceof NeedsAuthenticationError,
    );
  });

  test('the app reads its Connect app properties through its Connect key', async () => {
    assert.deepEqual(await tourApp.settings(), { status: 200, body: {
      key: 'settings',
      value: { enabled: true },
      self: `${site.gatewayUrl}/rest/atlassian-connect/1/addons/com.example.tour/properties/settings`,
    } });
  });

  test('plain requestJira carries no credentials', async () => {
    const response = await api.requestJira(route`/rest/api/3/myself`);
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), { code: 401, message: 'Unauthorized' });
  });

  test('a site reset drops minted tokens; the adapter mints new ones without the app noticing', async () => {
    assert.equal((await tourApp.saveProgress({ payload: { step: 5 } })).status, 200);
    await site.reset();
    assert.equal((await tourApp.saveProgress({ payload: { step: 6 } })).status, 200);
  });

  test('route refuses path manipulation before anything is sent', () => {
    assert.throws(() => route`/rest/api/3/user/properties/${'../../myself'}`, /Disallowing path manipulation/);
    assert.throws(() => api.asApp().requestJira('/rest/api/3/myself'), /You must create your route/);
  });
});

describe('a Forge app whose manifest lacks a scope', () => {
  let site;
  let forge;

  before(async () => {
    site = await startUnderstudy({ seed });
    forge = await installForge({ site, app: readOnlyAppId, accountId: '557058:bob' });
  });
  after(async () => {
    forge?.uninstall();
    await site?.stop();
  });

  test('gets the gateway’s scope mismatch as an ordinary response, naming the scope to add', async () => {
    const result = await tourApp.saveProgress({ payload: { step: 1 } });
    assert.deepEqual(result, { status: 401 });
    const [entry] = await site.journal({ limit: 1 });
    assert.match(entry.explanation, /add write:jira-work or write:user\.property:jira to permissions\.scopes in manifest\.yml/);
  });

  test('an app described by its manifest is installed on the fly, its app user following its scopes', async () => {
    const other = await installForge({
      site,
      app: { name: 'Admin tour', scopes: ['read:jira-user', 'write:jira-work', 'manage:jira-configuration'] },
    });
    try {
      assert.equal(other.app.appUser.administersJira, true);
      const { status, body } = await tourApp.progressOf('557058:bob');
      assert.equal(status, 200);
      assert.deepEqual(body.value, { step: 3, done: false });
    } finally {
      other.uninstall();
    }
    assert.equal(globalThis.__forge_runtime__.appContext.appId, readOnlyAppId, 'uninstall puts back the previous app');
  });
});
