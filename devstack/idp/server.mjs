// Local OpenID Connect identity provider for the pets dev stack. Harness only: never deployed.
//
// oidc-provider (a certified OIDC server) with its built-in dev login/consent pages, one
// public client (authorization code + PKCE S256, no secret) registered exactly as the program
// declares it (components/oidc_client.py, stack output `oidcClient`), and the demo users of
// users.json. devstack/idp/idp_process.py starts it; configuration comes from the environment:
//   IDP_PORT           port on 127.0.0.1 (default 9443); issuer is http://127.0.0.1:<port>
//   IDP_JWKS_FILE      private JWKS ({"keys": [RSA JWK with kid]}) made by idp_process.py
//   IDP_CLIENT_ID      the public client's id (default pets-local)
//   IDP_CLIENT         the registration, JSON shaped like ClientRegistration.to_output():
//                      redirectUris, postLogoutRedirectUris, webOrigins, grantTypes, scope,
//                      idTokenLifetimeSeconds, refreshTokenLifetimeSeconds (all required)
//   IDP_CLASS_GRANTS   JSON {role name: {tag: value}} (stack output `classGrants`, default {}):
//                      what auth0/post-login.js's classTags turns a user's roles into
//   IDP_USERS_FILE     default: users.json beside this file
//   IDP_TLS_CERT, IDP_TLS_KEY  PEM files: serve https (issuer https://127.0.0.1:<port>).
//                      AWS and LocalStack accept only https OIDC provider URLs.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import querystring from 'node:querystring';
import { fileURLToPath } from 'node:url';

import Provider, { interactionPolicy } from 'oidc-provider';

// CommonJS (it is the Auth0 Action's own file): the default import is its module.exports.
import postLogin from '../../auth0/post-login.js';

const { classTags, parseGrants, TAGS_CLAIM } = postLogin;

const HOST = '127.0.0.1';
const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;

function fail(message) {
  console.error(`idp: ${message}`);
  process.exit(2);
}

function parseJson(name, text) {
  try {
    return JSON.parse(text);
  } catch {
    return fail(`${name} is not JSON`);
  }
}

const REGISTRATION_LISTS = ['redirectUris', 'postLogoutRedirectUris', 'webOrigins', 'grantTypes'];
const REGISTRATION_SECONDS = ['idTokenLifetimeSeconds', 'refreshTokenLifetimeSeconds'];

/** The program's registration of the site, checked: a missing field is never defaulted. */
function readRegistration(text) {
  if (!text) fail('IDP_CLIENT is required (devstack/idp/idp_process.py passes the stack output oidcClient)');
  const reg = parseJson('IDP_CLIENT', text);
  if (reg === null || typeof reg !== 'object' || Array.isArray(reg)) fail('IDP_CLIENT must be an object');
  for (const key of REGISTRATION_LISTS) {
    if (!Array.isArray(reg[key]) || !reg[key].every((v) => typeof v === 'string' && v)) {
      fail(`IDP_CLIENT.${key} must be a list of strings`);
    }
  }
  if (!reg.redirectUris.length) fail('IDP_CLIENT.redirectUris is empty');
  for (const key of REGISTRATION_SECONDS) {
    if (!Number.isInteger(reg[key]) || reg[key] <= 0) fail(`IDP_CLIENT.${key} must be a positive integer`);
  }
  if (typeof reg.scope !== 'string' || !reg.scope.split(' ').includes('openid')) {
    fail('IDP_CLIENT.scope must be a space-separated scope list with openid');
  }
  return reg;
}

const port = Number(env.IDP_PORT ?? 9443);
if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`IDP_PORT ${env.IDP_PORT} is not a port`);
// Exactly this string, no trailing slash: it is the `iss` of every token and the OIDC
// provider URL registered in IAM, whose condition keys are built from it.
const tls = env.IDP_TLS_CERT && env.IDP_TLS_KEY
  ? { cert: readFileSync(env.IDP_TLS_CERT), key: readFileSync(env.IDP_TLS_KEY) }
  : null;
const issuer = `${tls ? 'https' : 'http'}://${HOST}:${port}`;
const clientId = env.IDP_CLIENT_ID || 'pets-local';
const registration = readRegistration(env.IDP_CLIENT);
let grants;
try {
  grants = parseGrants(env.IDP_CLASS_GRANTS || '{}');
} catch (error) {
  fail(`IDP_CLASS_GRANTS: ${error.message}`);
}
if (!env.IDP_JWKS_FILE) fail('IDP_JWKS_FILE is required (devstack/idp/idp_process.py generates it)');
const jwks = JSON.parse(readFileSync(env.IDP_JWKS_FILE, 'utf8'));
const { users } = JSON.parse(readFileSync(env.IDP_USERS_FILE || path.join(here, 'users.json'), 'utf8'));
const usersBySub = new Map(Object.values(users).map((user) => [user.sub, user]));
// A grant that cannot be resolved must stop the provider, not log someone in without (or
// with a guessed) class: the Action denies such a login; here it is caught at start.
for (const [name, user] of Object.entries(users)) {
  try {
    classTags(user.roles, grants);
  } catch (error) {
    fail(`users.json ${name}: ${error.message}`);
  }
}
const webOrigins = new Set(registration.webOrigins);

// Refresh tokens the way Auth0 gives them to a first-party SPA: for offline_access, without a
// consent prompt. oidc-provider follows OIDC Core 11 to the letter and drops offline_access
// from any authorization request whose prompt lacks `consent` (the site sends none, or
// `login` after a logout). So the authorization middleware below adds `consent` to such a
// request of our client, and the policy lets a requested consent pass without a page when
// the grant already covers the scopes (the first login still shows the consent page once).
const refreshAllowed = registration.grantTypes.includes('refresh_token');
const policy = interactionPolicy.base();
policy.get('consent').checks.remove('consent_prompt');

const configuration = {
  interactions: { policy },
  clients: [{
    client_id: clientId,
    token_endpoint_auth_method: 'none', // public client: a browser app cannot keep a secret
    application_type: 'web',
    grant_types: registration.grantTypes,
    response_types: ['code'],
    redirect_uris: registration.redirectUris,
    post_logout_redirect_uris: registration.postLogoutRedirectUris,
    // The client may ask for no scope beyond its registration.
    scope: registration.scope,
  }],
  jwks,
  // The session's accountId is the user's real sub (the login middleware below maps the
  // typed name to it), so this only has to look the sub up. claims() runs for every ID
  // token, the refreshed ones included, so a grant is asserted afresh each time.
  async findAccount(_ctx, sub) {
    const user = usersBySub.get(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        const tags = classTags(user.roles, grants);
        return {
          sub,
          email: user.email,
          email_verified: user.email_verified,
          name: user.name,
          ...(tags ? { [TAGS_CLAIM]: tags } : {}),
        };
      },
    };
  },
  // The tags claim goes with openid: like the Auth0 Action's, it is in every ID token that
  // has a grant to carry, whatever else the client asked for.
  claims: {
    openid: ['sub', TAGS_CLAIM],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  scopes: ['openid', 'offline_access'],
  // By default scope-requested claims go to userinfo only; the API reads them from the ID token.
  conformIdTokenClaims: false,
  pkce: { required: () => true }, // oidc-provider only implements S256
  responseTypes: ['code'],
  // A used refresh token is spent: using it again revokes the whole grant (reuse detection).
  rotateRefreshToken: true,
  // Lifetimes (seconds) from the registration where it declares them, explicit otherwise.
  ttl: {
    AuthorizationCode: 60,
    // The site never uses the access token; it lives as long as the ID token it came with.
    AccessToken: registration.idTokenLifetimeSeconds,
    IdToken: registration.idTokenLifetimeSeconds,
    // Absolute, as the registration says: a rotated token inherits what is left of its
    // predecessor's life, so rotation never extends a session.
    RefreshToken(ctx) {
      const rotated = ctx?.oidc?.entities.RotatedRefreshToken;
      return rotated ? rotated.remainingTTL : registration.refreshTokenLifetimeSeconds;
    },
    // The grant holds the refresh tokens: it must not end before they do.
    Grant: Math.max(registration.refreshTokenLifetimeSeconds, 8 * 3600),
    Interaction: 600,
    Session: 8 * 3600,
  },
  features: {
    devInteractions: { enabled: true },
    // Logout revokes the refresh token (RFC 7009); revoking it ends its grant.
    revocation: {
      enabled: true,
      // A public client may revoke only its own tokens (the library's rule, made explicit).
      allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
    },
  },
  // Fresh per start: sessions need not survive a restart of a dev IdP.
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  // The browser app calls the token and revocation endpoints cross-origin from where it is
  // served: allow exactly the registered web origins.
  clientBasedCORS(_ctx, origin) {
    return webOrigins.has(origin);
  },
};

const provider = new Provider(issuer, configuration);

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16 * 1024) throw new Error('login form too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/auth' && refreshAllowed) {
    const params = new URLSearchParams(ctx.querystring);
    const prompts = (params.get('prompt') ?? '').split(' ').filter(Boolean);
    if (params.get('client_id') === clientId && !prompts.includes('none')
        && !prompts.includes('consent')
        && (params.get('scope') ?? '').split(' ').includes('offline_access')) {
      params.set('prompt', [...prompts, 'consent'].join(' '));
      ctx.querystring = params.toString();
    }
  }
  await next();
});

// The dev login form accepts any string and would make it the `sub`. Map the demo names of
// users.json to their fixed subs and refuse anything else, so a typo can never mint an
// identity that matches an access rule by accident. The parsed body is handed on through
// req.body, which oidc-provider's own body parser accepts (it logs a one-time notice).
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && /^\/interaction\/[^/]+$/.test(ctx.path)
      && ctx.is('application/x-www-form-urlencoded')) {
    const body = querystring.parse(await readBody(ctx.req));
    if (body.prompt === 'login') {
      const name = String(body.login ?? '');
      if (!Object.hasOwn(users, name)) {
        ctx.status = 403;
        ctx.type = 'html';
        ctx.body = `<!DOCTYPE html><title>Unknown user</title><p>Unknown demo user "${escapeHtml(name)}".
          Known users: ${Object.keys(users).map(escapeHtml).join(', ')}. Go back and try again.</p>`;
        return;
      }
      body.login = users[name].sub;
    }
    ctx.req.body = body;
  }
  await next();
});

const server = (tls ? https.createServer(tls, provider.callback()) : provider).listen(port, HOST, () => {
  console.log(`idp: issuer ${issuer} client ${clientId} redirect_uris ${registration.redirectUris.join(' ')}`
    + ` id_token ${registration.idTokenLifetimeSeconds}s refresh_token ${registration.refreshTokenLifetimeSeconds}s`);
});
server.on('error', (error) => fail(`cannot listen on ${HOST}:${port}: ${error.message}`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // keep-alive connections would otherwise hold close() open
});
