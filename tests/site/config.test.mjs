// The site's check of config.json (site/config.js): the stack writes the route of each of the
// site's actions there (components/site_content.py app_config), and a config.json without
// them is refused with what is missing instead of offering controls no class may use.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError, checkConfig } from '../../site/config.js';

function config(overrides = {}) {
  return {
    region: 'eu-west-1',
    apiUrl: 'https://api.example.test/v1',
    issuer: 'https://issuer.example.test/',
    clientId: 'spa',
    scope: 'openid email',
    stsEndpoint: 'https://sts.eu-west-1.amazonaws.com',
    roles: { admin: 'arn:aws:iam::123456789012:role/pets-dev-admin' },
    classes: { admin: { routes: ['GET /pets'] } },
    actions: { list: 'GET /pets', add: 'POST /pets', remove: 'DELETE /pets/{petId}',
      buy: 'POST /pets/purchase' },
    ...overrides,
  };
}

describe('checkConfig', () => {
  it('accepts what the stack writes', () => {
    assert.deepEqual(checkConfig(config()).actions.remove, 'DELETE /pets/{petId}');
  });

  it('refuses a config.json without the actions', () => {
    assert.throws(() => checkConfig(config({ actions: undefined })),
      (error) => error instanceof ConfigError && error.message === 'config.json lacks actions');
  });

  it('names each action whose route is missing', () => {
    const actions = { list: 'GET /pets', add: 'POST /pets' };
    assert.throws(() => checkConfig(config({ actions })),
      { message: 'config.json: actions lacks the route of remove, buy' });
  });
});
