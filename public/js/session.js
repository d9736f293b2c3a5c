// @ts-check
/*
 * The app user's session: the token from the sandbox login, kept in sessionStorage so it dies with
 * the tab (never in storage that outlives it: another tab or a later visitor must not inherit it).
 */

const TOKEN_KEY = 'tpp-demo.token';
const USER_KEY = 'tpp-demo.user';

/** @returns {string | null} */
export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** @returns {string | null} */
export function userId() {
  return sessionStorage.getItem(USER_KEY);
}

/** @param {string} user @param {string} value */
export function begin(user, value) {
  sessionStorage.setItem(TOKEN_KEY, value);
  sessionStorage.setItem(USER_KEY, user);
}

export function end() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
}
