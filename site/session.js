// The role credentials of the logged-in user: held in memory only (never in storage), fetched
// from STS on login, again whenever the login is renewed, and shortly before they expire.

import { assumeRoleWithWebIdentity } from './sts.js';

// Refresh this long before expiry, so no request is signed with credentials about to lapse.
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export class LoginExpired extends Error {
  constructor() {
    super('your login has expired; log in again');
  }
}

export class RoleSession {
  /**
   * idToken/idTokenExpiresAt: the user's ID token and its `exp` in ms (STS refuses expired ones).
   * onRefreshFailed(error): the background refresh failed; the UI tells the user.
   */
  constructor({ stsEndpoint, roleArn, idToken, idTokenExpiresAt, sub, onRefreshFailed }) {
    Object.assign(this, { stsEndpoint, roleArn, idToken, idTokenExpiresAt, sub, onRefreshFailed });
    this._credentials = null;
    this._pending = null;
    this._timer = null;
    this._stopped = false;
  }

  /** Valid credentials, refreshed first when they are about to expire. */
  async credentials() {
    const fresh = this._credentials
      && this._credentials.expiration.getTime() - Date.now() > REFRESH_MARGIN_MS;
    return fresh ? this._credentials : this.refresh();
  }

  /** New credentials from STS; concurrent callers share one request. */
  refresh() {
    this._pending ??= this._assume().finally(() => { this._pending = null; });
    return this._pending;
  }

  async _assume() {
    if (Date.now() >= this.idTokenExpiresAt) throw new LoginExpired();
    const credentials = await assumeRoleWithWebIdentity({
      endpoint: this.stsEndpoint, roleArn: this.roleArn, idToken: this.idToken, sub: this.sub,
    });
    if (this._stopped) throw new Error('logged out');
    this._credentials = credentials;
    this._schedule(credentials.expiration.getTime() - REFRESH_MARGIN_MS - Date.now());
    return credentials;
  }

  _schedule(delayMs) {
    clearTimeout(this._timer);
    // Credentials living shorter than the margin would refresh in a tight loop: wait a little.
    this._timer = setTimeout(() => {
      this.refresh().catch((error) => this.onRefreshFailed?.(error));
    }, Math.max(delayMs, 30 * 1000));
  }

  /**
   * The login was renewed: new credentials from STS with the new ID token, at once. Later
   * refreshes must not present the old token, which STS refuses once it has expired.
   */
  useIdToken(idToken, idTokenExpiresAt) {
    Object.assign(this, { idToken, idTokenExpiresAt });
    // A refresh already under way carries the old token: let it finish, then ask again.
    const underWay = this._pending ?? Promise.resolve();
    return underWay.catch(() => {}).then(() => this.refresh());
  }

  /** Forget the credentials (log out). */
  stop() {
    this._stopped = true;
    clearTimeout(this._timer);
    this._timer = null;
    this._credentials = null;
  }
}
