// Local OpenID Connect identity provider for the pets dev stack. Harness only: never deployed.
//
// oidc-provider (a certified OIDC server) with its built-in dev login/consent pages, one
// public client (authorization code + PKCE S256, no secret) and the demo users of
// users.json. devstack/identity.py starts it; configuration comes from the environment:
//   IDP_PORT                       port on 127.0.0.1 (default 9443); issuer is http://127.0.0.1:<port>
//   IDP_JWKS_FILE                  private JWKS ({"keys": [RSA JWK with kid]}) made by identity.py
//   IDP_CLIENT_ID                  the public client's id (default pets-local)
//   IDP_REDIRECT_URIS              whitespace-separated exact redirect URIs (default http://127.0.0.1/callback)
//   IDP_POST_LOGOUT_REDIRECT_URIS  whitespace-separated, optional
//   IDP_USERS_FILE                 default: users.json beside this file
//   IDP_TLS_CERT, IDP_TLS_KEY      PEM files: serve https (issuer https://127.0.0.1:<port>).
//                                  AWS and LocalStack accept only https OIDC provider URLs.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import querystring from 'node:querystring';
import { fileURLToPath } from 'node:url';

import Provider from 'oidc-provider';

const HOST = '127.0.0.1';
const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;

function fail(message) {
  console.error(`idp: ${message}`);
  process.exit(2);
}

function list(value, fallback) {
  const items = (value ?? '').split(/\s+/).filter(Boolean);
  return items.length ? items : fallback;
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
const redirectUris = list(env.IDP_REDIRECT_URIS, ['http://127.0.0.1/callback']);
const postLogoutRedirectUris = list(env.IDP_POST_LOGOUT_REDIRECT_URIS, []);
if (!env.IDP_JWKS_FILE) fail('IDP_JWKS_FILE is required (devstack/identity.py generates it)');
const jwks = JSON.parse(readFileSync(env.IDP_JWKS_FILE, 'utf8'));
const { users } = JSON.parse(readFileSync(env.IDP_USERS_FILE || path.join(here, 'users.json'), 'utf8'));
const usersBySub = new Map(Object.values(users).map((user) => [user.sub, user]));

const configuration = {
  clients: [{
    client_id: clientId,
    token_endpoint_auth_method: 'none', // public client: a browser app cannot keep a secret
    application_type: 'web',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
  }],
  jwks,
  // The session's accountId is the user's real sub (the login middleware below maps the
  // typed name to it), so this only has to look the sub up.
  async findAccount(_ctx, sub) {
    const user = usersBySub.get(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: user.email, email_verified: user.email_verified, name: user.name };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // By default scope-requested claims go to userinfo only; the API reads them from the ID token.
  conformIdTokenClaims: false,
  pkce: { required: () => true }, // oidc-provider only implements S256
  responseTypes: ['code'],
  // Explicit lifetimes (seconds) instead of the library defaults it warns about.
  ttl: {
    AuthorizationCode: 60,
    AccessToken: 3600,
    IdToken: 3600,
    Interaction: 600,
    Grant: 8 * 3600,
    Session: 8 * 3600,
  },
  features: { devInteractions: { enabled: true } },
  // Fresh per start: sessions need not survive a restart of a dev IdP.
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  // The browser app calls the token endpoint cross-origin from where it is served: allow
  // exactly the origins of the registered redirect URIs (the library's default, made explicit).
  clientBasedCORS(_ctx, origin, client) {
    return client.redirectUris.some((uri) => URL.parse(uri)?.origin === origin);
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
  console.log(`idp: issuer ${issuer} client ${clientId} redirect_uris ${redirectUris.join(' ')}`);
});
server.on('error', (error) => fail(`cannot listen on ${HOST}:${port}: ${error.message}`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // keep-alive connections would otherwise hold close() open
});
