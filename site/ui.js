// The page's elements and how they show the state. Text only ever goes in as textContent.

const $ = (id) => document.getElementById(id);

export const elements = {
  who: $('who'),
  login: $('login'),
  logout: $('logout'),
  status: $('status'),
  addSection: $('add-section'),
  addForm: $('add-form'),
  type: $('pet-type'),
  price: $('pet-price'),
  petsSection: $('pets-section'),
  petsHeading: $('pets-heading'),
  refresh: $('refresh'),
  rows: document.querySelector('#pets tbody'),
  noPets: $('no-pets'),
  more: $('more'),
};

/** Announces a message in the live region; kind: 'info' | 'error'. */
export function say(message, kind = 'info') {
  const { status } = elements;
  status.classList.toggle('error', kind === 'error');
  // Screen readers announce a change; clearing first makes a repeated message a change too.
  status.textContent = '';
  requestAnimationFrame(() => { status.textContent = message; });
  if (kind === 'error') console.warn(message);
}

const PRICE = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function formatPrice(price) {
  return typeof price === 'number' ? PRICE.format(price) : String(price ?? '');
}

/** Logged-out, or logged in as `user` (oidc-client-ts User) in `className` (may be null). */
export function showSession(user, className) {
  const { who, login, logout } = elements;
  if (!user) {
    who.textContent = 'Not logged in.';
  } else {
    const { name, email, sub } = user.profile;
    const label = name && email ? `${name} (${email})` : email || name || sub;
    who.textContent = `Logged in as ${label}, ${className ? `user class ${className}` : 'no user class'}.`;
  }
  login.hidden = Boolean(user);
  logout.hidden = !user;
}

/** Which controls the class gets, from the routes it may call. */
export function showControls({ list, add, remove, buy }) {
  elements.petsSection.hidden = !list;
  elements.addSection.hidden = !add;
  elements.rows.dataset.remove = remove ? 'yes' : 'no';
  elements.rows.dataset.buy = buy ? 'yes' : 'no';
}

function button(label, accessibleName, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.setAttribute('aria-label', accessibleName);
  b.addEventListener('click', onClick);
  return b;
}

const isSold = (pet) => pet.sold === true || Boolean(pet.soldTo);

/** A pet's status: who bought it only when the API says (to admins and to the buyer). */
function petStatus(pet) {
  if (pet.soldTo) return `Sold to ${pet.soldTo}`;
  return isSold(pet) ? 'Sold' : 'Available';
}

function petRow(pet, { onRemove, onBuy }) {
  const { rows } = elements;
  const tr = document.createElement('tr');
  tr.dataset.petId = pet.petId;
  const cells = [pet.type, formatPrice(pet.price), petStatus(pet)];
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  const actions = document.createElement('td');
  const what = `${pet.type} (${formatPrice(pet.price)})`;
  const sold = isSold(pet);
  if (!sold && rows.dataset.buy === 'yes') actions.append(button('Buy', `Buy ${what}`, () => onBuy(pet)));
  if (!sold && rows.dataset.remove === 'yes') {
    actions.append(button('Remove', `Remove ${what}`, () => onRemove(pet)));
  }
  tr.append(actions);
  return tr;
}

/**
 * Renders a page of pets: in place of the rows shown, or after them (append). more: whether
 * an older page follows (the "More pets" button). onRemove/onBuy(pet) are offered on unsold
 * pets when the class may.
 */
export function showPets(pets, actions, { append = false, more = false } = {}) {
  const { rows, noPets } = elements;
  const added = pets.map((pet) => petRow(pet, actions));
  if (append) rows.append(...added);
  else rows.replaceChildren(...added);
  noPets.hidden = rows.rows.length > 0;
  elements.more.hidden = !more;
  return rows.rows.length;
}

/** Shows one pet anew where it is listed (after a purchase), leaving the other rows be. */
export function showPet(pet, actions) {
  const old = [...elements.rows.rows].find((tr) => tr.dataset.petId === pet.petId);
  old?.replaceWith(petRow(pet, actions));
}

/** Disables every control while a request runs, so nothing is sent twice. */
export function busy(on) {
  for (const control of document.querySelectorAll('main button, main input')) control.disabled = on;
  document.body.setAttribute('aria-busy', String(on));
}
