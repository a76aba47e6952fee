// The post-login Action's logic, run by `node --test auth0/` (make test-node, part of make test).
// No Auth0 here: onExecutePostLogin gets a fake event and api that record what it does.

const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const {
  classTags, parseGrants, GrantConflict, TAGS_CLAIM, onExecutePostLogin,
} = require('./post-login.js');

// The shape components/auth0.py puts in the CLASS_GRANTS secret (oidc_client.class_grants).
const GRANTS = {
  'pets-prod-admin': { 'pets-class': 'admin' },
  'pets-prod-staff-admin': { 'pets-class': 'admin' },
  'pets-prod-buyer': { 'pets-class': 'buyer' },
};
const ADMIN_CLAIM = { principal_tags: { 'pets-class': ['admin'] } };

function fakeApi() {
  const calls = { claims: [], denied: [] };
  const api = {
    idToken: { setCustomClaim: (name, value) => calls.claims.push([name, value]) },
    access: { deny: (reason) => calls.denied.push(reason) },
  };
  return { api, calls };
}

function event(roles, secrets = { CLASS_GRANTS: JSON.stringify(GRANTS) }) {
  return { authorization: { roles }, secrets };
}

describe('classTags', () => {
  it('grants nothing without roles', () => {
    assert.equal(classTags([], GRANTS), null);
    assert.equal(classTags(undefined, GRANTS), null);
  });

  it('ignores a role that grants nothing', () => {
    assert.equal(classTags(['billing'], GRANTS), null);
  });

  it('turns the granting role into principal tags', () => {
    assert.deepEqual(classTags(['pets-prod-admin'], GRANTS), ADMIN_CLAIM);
  });

  it('merges two roles that grant the same tag', () => {
    assert.deepEqual(classTags(['pets-prod-admin', 'pets-prod-staff-admin'], GRANTS), ADMIN_CLAIM);
  });

  it('never sets transitive tag keys', () => {
    assert.deepEqual(Object.keys(classTags(['pets-prod-admin'], GRANTS)), ['principal_tags']);
  });

  it('refuses roles that grant conflicting values', () => {
    assert.throws(() => classTags(['pets-prod-admin', 'pets-prod-buyer'], GRANTS), GrantConflict);
  });

  it('does not read grants from the prototype', () => {
    assert.equal(classTags(['toString', '__proto__'], GRANTS), null);
  });
});

describe('parseGrants', () => {
  it('reads the secret components/auth0.py writes', () => {
    assert.deepEqual(parseGrants(JSON.stringify(GRANTS)), GRANTS);
  });

  for (const [what, text] of [
    ['missing', undefined],
    ['empty', ''],
    ['not JSON', '{pets-prod-admin'],
  ]) {
    it(`refuses a ${what} secret`, () => {
      assert.throws(() => parseGrants(text), { message: 'the CLASS_GRANTS secret is not JSON' });
    });
  }

  for (const [what, grants] of [
    ['null', null],
    ['a list', [['pets-prod-admin', 'admin']]],
    ['a string', 'pets-prod-admin'],
  ]) {
    it(`refuses ${what} instead of a map`, () => {
      assert.throws(() => parseGrants(JSON.stringify(grants)), {
        message: 'the CLASS_GRANTS secret must map role names to tags',
      });
    });
  }

  for (const [what, tags] of [
    ['a string', 'admin'],
    ['a list', ['pets-class', 'admin']],
    ['no tags', {}],
    ['a number', { 'pets-class': 1 }],
    ['an empty value', { 'pets-class': '' }],
  ]) {
    it(`refuses a role granting ${what}`, () => {
      assert.throws(() => parseGrants(JSON.stringify({ 'pets-prod-admin': tags })),
        /the CLASS_GRANTS secret: pets-prod-admin must map tag names/);
    });
  }
});

describe('onExecutePostLogin', () => {
  it('sets exactly the admin tags claim for the admin role', async () => {
    const { api, calls } = fakeApi();
    await onExecutePostLogin(event(['pets-prod-admin']), api);
    assert.deepEqual(calls.claims, [['https://aws.amazon.com/tags', ADMIN_CLAIM]]);
    assert.equal(TAGS_CLAIM, 'https://aws.amazon.com/tags');
    assert.deepEqual(calls.denied, []);
  });

  it('sets nothing for a user without roles', async () => {
    const { api, calls } = fakeApi();
    await onExecutePostLogin(event([]), api);
    assert.deepEqual(calls, { claims: [], denied: [] });
  });

  it('sets nothing when the event carries no authorization', async () => {
    const { api, calls } = fakeApi();
    await onExecutePostLogin({ secrets: { CLASS_GRANTS: JSON.stringify(GRANTS) } }, api);
    assert.deepEqual(calls, { claims: [], denied: [] });
  });

  it('denies the login on conflicting grants', async () => {
    const { api, calls } = fakeApi();
    await onExecutePostLogin(event(['pets-prod-admin', 'pets-prod-buyer']), api);
    assert.deepEqual(calls.claims, []);
    assert.deepEqual(calls.denied,
      ['class grant: roles grant both pets-class=admin and pets-class=buyer']);
  });

  for (const [what, secrets] of [['a broken', { CLASS_GRANTS: '{not json' }], ['a missing', {}]]) {
    it(`denies the login with ${what} secret, even without roles`, async () => {
      const { api, calls } = fakeApi();
      await onExecutePostLogin(event([], secrets), api);
      assert.deepEqual(calls.claims, []);
      assert.deepEqual(calls.denied, ['class grant: the CLASS_GRANTS secret is not JSON']);
    });
  }
});
