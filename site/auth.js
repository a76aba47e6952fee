// OIDC login (authorization code + PKCE) with oidc-client-ts. Tokens live in sessionStorage
// under one prefix, so logging out can remove every trace of the login from the tab.

import { UserManager, WebStorageStateStore } from './vendor/oidc-client-ts.js';

const PREFIX = 'pets.oidc.';
const FORCE_LOGIN_KEY = 'pets.forceLogin';

/** The site's own page, whatever URL form it was opened with: the registered redirect URI. */
export function redirectUri(location = window.location) {
  return new URL('index.html', location.href).href;
}

export class Auth {
  constructor(config) {
    const store = new WebStorageStateStore({ store: window.sessionStorage, prefix: PREFIX });
    this.manager = new UserManager({
      authority: config.issuer,
      client_id: config.clientId,
      redirect_uri: redirectUri(),
      response_type: 'code', // PKCE is on by default for the code flow
      // email and name say who is logged in; the API records the buyer's email from the ID token.
      scope: 'openid email profile',
      userStore: store,
      stateStore: store,
      // No silent renew: it needs an iframe page; an expired login asks to log in again.
      automaticSilentRenew: false,
    });
  }

  /** Whether this page load is the IdP sending the user back (with a code or an error). */
  static isCallback(location = window.location) {
    const params = new URLSearchParams(location.search);
    return params.has('state') && (params.has('code') || params.has('error'));
  }

  /** Completes the login from the callback URL, then removes code and state from the address bar. */
  async completeLogin() {
    try {
      const user = await this.manager.signinRedirectCallback();
      window.sessionStorage.removeItem(FORCE_LOGIN_KEY);
      return user;
    } finally {
      window.history.replaceState(null, '', redirectUri());
    }
  }

  /** The logged-in user, or null when there is none or the ID token has expired. */
  async user() {
    const user = await this.manager.getUser();
    if (!user || !user.id_token || idTokenExpiresAt(user) <= Date.now()) return null;
    return user;
  }

  login() {
    // After a logout, the IdP's own session would log the same person in again silently.
    const forceLogin = window.sessionStorage.getItem(FORCE_LOGIN_KEY) === '1';
    return this.manager.signinRedirect(forceLogin ? { prompt: 'login' } : {});
  }

  /** Forgets the login in this tab: tokens, pending login state, everything under our prefix. */
  async logout() {
    await this.manager.removeUser();
    for (const key of Object.keys(window.sessionStorage)) {
      if (key.startsWith(PREFIX)) window.sessionStorage.removeItem(key);
    }
    window.sessionStorage.setItem(FORCE_LOGIN_KEY, '1');
  }
}

/** The ID token's `exp` in ms (not the access token's: STS takes the ID token). */
export function idTokenExpiresAt(user) {
  return (user.profile?.exp ?? 0) * 1000;
}
