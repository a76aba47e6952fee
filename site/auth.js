// OIDC login (authorization code + PKCE) with oidc-client-ts. Tokens live in sessionStorage
// under one prefix, so logging out can remove every trace of the login from the tab.
//
// The login lasts beyond one ID token: before the ID token expires, the refresh token (scope
// offline_access, rotated by the identity provider on every use) buys a new one. Logout
// revokes the refresh token at the identity provider before forgetting the user.

import { UserManager, WebStorageStateStore } from './vendor/oidc-client-ts.js';

const PREFIX = 'pets.oidc.';
const FORCE_LOGIN_KEY = 'pets.forceLogin';
// Renew this long before the ID token expires, at most: a quarter of its life for short ones.
export const RENEW_MARGIN_MS = 60 * 1000;

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
      // The registered scope (config.json, from the stack's client registration): email and
      // name say who is logged in; offline_access asks for the refresh token.
      scope: config.scope,
      userStore: store,
      stateStore: store,
      // Not the library's renewal: it follows the access token's expiry, and STS takes the ID
      // token, whose lifetime the identity provider sets on its own (Auth0: 1 h ID token,
      // 24 h access token). keepRenewed() follows the ID token instead.
      automaticSilentRenew: false,
    });
    this._timer = null;
    this._renewing = null; // the renewal under way, if any
    this._generation = 0; // bumped by stopRenewing: a renewal of an older one is dropped
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

  /**
   * The logged-in user, or null when there is none. A stored login whose ID token expired
   * (the tab slept, say) is renewed with its refresh token when it has one.
   */
  async user() {
    const user = await this.manager.getUser();
    if (!user || !user.id_token) return null;
    if (idTokenExpiresAt(user) > Date.now()) return user;
    if (!user.refresh_token) return null;
    try {
      return await this.renew();
    } catch {
      return null; // refused (revoked, expired): an ordinary logged-out start
    }
  }

  /** A new ID token (and a new refresh token) from the refresh token; no page is shown. */
  async renew() {
    const user = await this.manager.getUser();
    if (!user?.refresh_token) throw new Error('this login has no refresh token');
    // With a refresh token oidc-client-ts uses the refresh_token grant (no iframe).
    const renewed = await this.manager.signinSilent();
    if (!renewed?.id_token) throw new Error('the identity provider returned no ID token');
    return renewed;
  }

  /**
   * Renews the ID token before each expiry, for as long as the identity provider agrees.
   * onRenewed(user) gets every renewed login; onFailed(error) a refused renewal (no retry:
   * the login then ends when its ID token expires). Without a refresh token nothing renews.
   */
  keepRenewed(user, { onRenewed, onFailed }) {
    this.stopRenewing();
    if (!user.refresh_token) return;
    const generation = this._generation;
    this._timer = setTimeout(async () => {
      this._timer = null;
      let renewed;
      this._renewing = this.renew();
      try {
        renewed = await this._renewing;
      } catch (error) {
        if (generation === this._generation) onFailed(error);
        return;
      } finally {
        this._renewing = null;
      }
      if (generation !== this._generation) return; // logged out meanwhile
      onRenewed(renewed);
      this.keepRenewed(renewed, { onRenewed, onFailed });
    }, renewDelayMs(user));
  }

  stopRenewing() {
    this._generation += 1;
    clearTimeout(this._timer);
    this._timer = null;
  }

  /**
   * Asks the identity provider to revoke this login's refresh token (RFC 7009). Not
   * oidc-client-ts's revokeTokens: it insists on a JSON answer, and RFC 7009 gives a
   * revocation no body (oidc-provider answers 200 text/plain), so it took a done revocation
   * for a failure.
   */
  async revokeRefreshToken() {
    const user = await this.manager.getUser();
    if (!user?.refresh_token) return;
    const endpoint = await this.manager.metadataService.getRevocationEndpoint(false);
    const body = new URLSearchParams({
      token: user.refresh_token,
      token_type_hint: 'refresh_token',
      client_id: this.manager.settings.client_id,
    });
    const response = await fetch(endpoint, { method: 'POST', body });
    if (!response.ok) {
      let why = `HTTP ${response.status}`;
      try {
        const answer = await response.json();
        why = [answer.error, answer.error_description].filter(Boolean).join(': ') || why;
      } catch {
        // No JSON error: the status says it.
      }
      throw new Error(`revocation refused (${why})`);
    }
  }

  login() {
    // After a logout, the IdP's own session would log the same person in again silently.
    const forceLogin = window.sessionStorage.getItem(FORCE_LOGIN_KEY) === '1';
    return this.manager.signinRedirect(forceLogin ? { prompt: 'login' } : {});
  }

  /**
   * Revokes the refresh token at the identity provider, then forgets the login in this tab:
   * tokens, pending login state, everything under our prefix. The tab forgets even when the
   * revocation fails; the error is rethrown so the user is told.
   */
  async logout() {
    this.stopRenewing();
    // A renewal under way would store a new login after we forget it, and its refresh token
    // is the one to revoke: let it finish first.
    await this._renewing?.catch(() => {});
    let revocationError = null;
    try {
      await this.revokeRefreshToken();
    } catch (error) {
      revocationError = error;
    }
    await this.manager.removeUser();
    for (const key of Object.keys(window.sessionStorage)) {
      if (key.startsWith(PREFIX)) window.sessionStorage.removeItem(key);
    }
    window.sessionStorage.setItem(FORCE_LOGIN_KEY, '1');
    if (revocationError) {
      throw new Error(`the identity provider did not revoke the session (${revocationError.message})`);
    }
  }
}

/** The ID token's `exp` in ms (not the access token's: STS takes the ID token). */
export function idTokenExpiresAt(user) {
  return (user.profile?.exp ?? 0) * 1000;
}

/** How long until the ID token should be renewed: RENEW_MARGIN_MS, or a quarter of its life. */
export function renewDelayMs(user, now = Date.now()) {
  const expiresAt = idTokenExpiresAt(user);
  const issuedAt = (user.profile?.iat ?? 0) * 1000;
  const margin = Math.min(RENEW_MARGIN_MS, Math.max(0, expiresAt - issuedAt) / 4);
  return Math.max(0, expiresAt - margin - now);
}
