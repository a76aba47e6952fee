// The app: config -> OIDC login -> the class's role from STS -> signed API calls.

import { ApiError, PetsApi, describeApiError, gaveUpRetrying } from './api.js';
import { Auth, idTokenExpiresAt } from './auth.js';
import { classFor, mayCall } from './classes.js';
import { loadConfig } from './config.js';
import { LoginExpired, RoleSession } from './session.js';
import { StsError, describeStsError } from './sts.js';
import {
  busy, elements, formatPrice, say, showControls, showPet, showPets, showSession,
} from './ui.js';

let config = null;
let auth = null;
// The logged-in user: { user, className, session, api, expiryTimer, cursor, pendingAdd }, or
// null. cursor: the nextCursor of the last page shown (the older pets "More pets" lists), or
// null. pendingAdd: { type, price, key } of an add whose outcome is unknown (the API stayed
// busy through every try), whose key a second add of the same pet sends again.
let current = null;

/** What an action meets when the user logged out while it waited: it says and shows nothing. */
class SessionEnded extends Error {
  constructor() {
    super('logged out meanwhile');
  }
}

export async function start() {
  try {
    config = await loadConfig();
  } catch (error) {
    say(`The app cannot start: ${error.message}.`, 'error');
    return;
  }
  auth = new Auth(config);
  elements.login.addEventListener('click', login);
  elements.logout.addEventListener('click', logout);
  elements.refresh.addEventListener('click', () => act('list the pets', async () => {
    say(listed(await refresh()));
  }));
  elements.more.addEventListener('click', listMore);
  elements.addForm.addEventListener('submit', addPet);
  elements.login.disabled = false;

  if (Auth.isCallback()) {
    try {
      await auth.completeLogin();
    } catch (error) {
      loggedOut();
      say(`Login failed: ${error.message}.`, 'error');
      return;
    }
  }
  const user = await auth.user();
  if (!user) {
    loggedOut();
    say('Log in to see the pets.');
    return;
  }
  await begin(user);
}

/** Describes any failure of an action in words. */
function describe(error, action) {
  if (error instanceof StsError) return `Could not ${action}: ${describeStsError(error, current?.className)}.`;
  if (error instanceof LoginExpired) return `Could not ${action}: ${error.message}.`;
  if (error instanceof ApiError) return describeApiError(error, action, current?.className);
  return `Could not ${action}: ${error.message}.`;
}

async function begin(user) {
  const className = classFor(user.profile, config.classes);
  showSession(user, className);
  if (!className) {
    showControls({});
    say(`Your account (${user.profile.sub}) belongs to no user class of this shop, so it gets `
      + 'no role. Log out and log in with another account.', 'error');
    return;
  }
  const session = new RoleSession({
    stsEndpoint: config.stsEndpoint,
    roleArn: config.roles[className],
    idToken: user.id_token,
    idTokenExpiresAt: idTokenExpiresAt(user),
    sub: user.profile.sub,
    onRefreshFailed: (error) => failed(error, 'renew your credentials'),
  });
  const api = new PetsApi({
    apiUrl: config.apiUrl,
    region: config.region,
    credentials: () => session.credentials(),
    onRetry: ({ tryNumber, tries }) => {
      if (current?.api === api) say(`Busy, retrying… (try ${tryNumber} of ${tries})`);
    },
  });
  current = { user, className, session, api, expiryTimer: null, cursor: null, pendingAdd: null };
  auth.keepRenewed(user, { onRenewed: renewed, onFailed: renewalFailed });
  // config.json names the route of each action (config.actions) and the routes of each class.
  const may = (action) => mayCall(config.classes, className, config.actions[action]);
  showControls({ list: may('list'), add: may('add'), remove: may('remove'), buy: may('buy') });
  const mine = current;
  if (!(await act('get credentials for your role', () => session.credentials()))) return;
  if (current !== mine) return; // logged out meanwhile
  if (may('list')) {
    await act('list the pets', async () => {
      say(`Logged in as ${className}. ${listed(await refresh())}`);
    });
  } else {
    say(`Logged in as ${className}.`);
  }
}

/** The login was renewed: the purchase header and STS get the new ID token from now on. */
function renewed(user) {
  if (!current) return;
  current.user = user;
  current.session.useIdToken(user.id_token, idTokenExpiresAt(user))
    .catch((error) => failed(error, 'renew your credentials'));
}

/** The identity provider refused to renew: the login ends when its ID token expires. */
function renewalFailed(error) {
  if (!current) return;
  say(`Could not renew your login: ${error.message}. It ends when it expires; then log in again.`,
    'error');
  const session = current.session;
  clearTimeout(current.expiryTimer);
  current.expiryTimer = setTimeout(() => {
    if (current?.session === session) failed(new LoginExpired(), 'stay logged in');
  }, Math.max(0, idTokenExpiresAt(current.user) - Date.now()));
}

/** Runs an action with the controls disabled; any failure is said, never swallowed.
 * hint(error): more words for the failure message, or ''. */
async function act(action, work, hint = () => '') {
  const session = current;
  busy(true);
  try {
    await work();
    return true;
  } catch (error) {
    // A session that ended meanwhile (logged out) has nothing more to say.
    if (current === session) failed(error, action, hint(error));
    return false;
  } finally {
    busy(false);
  }
}

function failed(error, action, hint = '') {
  say(`${describe(error, action)}${hint ? ` ${hint}` : ''}`, 'error');
  if (error instanceof LoginExpired) endSession();
}

const PET_ACTIONS = { onRemove: removePet, onBuy: buyPet };

/** What the first page showed, in words. */
function listed({ count, more }) {
  const pets = `${count} pet${count === 1 ? '' : 's'}`;
  return `${pets} listed.${more ? ' Older ones follow with "More pets".' : ''}`;
}

/** Shows a page: the first (the newest pets) in place of the list, or (next) the one older
 * than the pets shown, after them. Returns { count, shown, more }: the page's pets, the
 * rows now shown, whether an older page follows. */
async function showPage({ next = false, once = false } = {}) {
  const session = current;
  if (!session) throw new SessionEnded();
  const page = await session.api.page(next ? session.cursor : undefined, session.user.id_token,
    { once });
  if (current !== session) throw new SessionEnded(); // logged out meanwhile: show nothing
  current.cursor = page.nextCursor ?? null;
  const more = current.cursor !== null;
  const shown = showPets(page.pets, PET_ACTIONS, { append: next, more });
  return { count: page.pets.length, shown, more };
}

/** Lists the pets again from the first page (once: one try, no retry announced). */
function refresh({ once = false } = {}) {
  return showPage({ once });
}

/** "More pets": appends the next, older page after the rows shown. */
async function listMore() {
  if (!current?.cursor) return;
  const ok = await act('list more pets', async () => {
    const { count, shown, more } = await showPage({ next: true });
    say(`Listed ${count} more pet${count === 1 ? '' : 's'} (${shown} in all)`
      + `${more ? '. Older ones follow with "More pets".' : '; that is every pet.'}`);
  });
  // Disabled while the page loaded, the button lost the focus: give it back, so Enter lists
  // the next page; on the last page it is gone, and the focus goes to the list's heading.
  if (ok && elements.more.hidden) elements.petsHeading.focus();
  else elements.more.focus();
}

/** After a refused change the list may be stale (sold or removed meanwhile): show the truth. */
async function refreshQuietly() {
  try {
    // One try: while the API is busy, the outcome already said stays on the page.
    await refresh({ once: true });
  } catch {
    // The refusal is what the user needs to read; the stale list stays.
  }
}

async function addPet(event) {
  event.preventDefault();
  if (!current) {
    say('Log in first.', 'error');
    return;
  }
  const type = elements.type.value.trim();
  const price = elements.price.valueAsNumber;
  // One key per pet added; the same pet added again after its outcome stayed unknown sends
  // the same key, so the API answers that first add instead of making a second pet.
  const pending = current.pendingAdd;
  const key = pending?.type === type && pending?.price === price
    ? pending.key : crypto.randomUUID();
  const adding = current;
  const ok = await act('add the pet', async () => {
    adding.pendingAdd = { type, price, key };
    try {
      const pet = await adding.api.add(type, price, key);
      adding.pendingAdd = null;
      if (current !== adding) return;
      elements.addForm.reset();
      await refreshQuietly();
      if (current === adding) say(`Added ${pet.type} for ${formatPrice(pet.price)}.`);
    } catch (error) {
      if (!gaveUpRetrying(error)) adding.pendingAdd = null;
      throw error;
    }
  }, (error) => (gaveUpRetrying(error)
    ? 'It may have been added: adding the same pet again will not add it twice.' : ''));
  elements.type.focus();
  if (!ok) elements.type.select();
}

async function removePet(pet) {
  const removing = current;
  const ok = await act(`remove the ${pet.type}`, async () => {
    await removing.api.remove(pet.petId);
    if (current !== removing) return;
    await refreshQuietly();
    if (current === removing) say(`Removed ${pet.type}.`);
  });
  if (!ok) await refreshQuietly();
  elements.petsHeading.focus();
}

async function buyPet(pet) {
  const buying = current;
  const ok = await act(`buy the ${pet.type}`, async () => {
    // The API records the buyer named by the ID token, not by the role.
    const sold = await buying.api.purchase(pet.petId, buying.user.id_token);
    if (current !== buying) return;
    // Shown where it is listed, so a pet bought from an older page keeps the buyer's place.
    showPet(sold, PET_ACTIONS);
    say(`You bought ${sold.type} for ${formatPrice(sold.price)}.`);
  });
  if (!ok) await refreshQuietly();
  elements.petsHeading.focus();
}

async function login() {
  say('Going to the login page…');
  try {
    await auth.login();
  } catch (error) {
    say(`Cannot start the login at ${config.issuer}: ${error.message}.`, 'error');
  }
}

/** Forgets credentials and shows the logged-out page (tokens stay until logout()). */
function endSession() {
  auth.stopRenewing();
  clearTimeout(current?.expiryTimer);
  current?.session.stop();
  current = null;
  loggedOut();
}

function loggedOut() {
  showSession(null);
  showControls({});
  showPets([], PET_ACTIONS);
}

async function logout() {
  endSession();
  try {
    await auth.logout();
    say('Logged out.');
  } catch (error) {
    say(`Logging out failed: ${error.message}. Close this tab to be sure.`, 'error');
  }
  elements.login.focus();
}
