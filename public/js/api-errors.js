// @ts-check
/*
 * How a call to the API fails, apart from the network: kept apart from api.js (and its client) so
 * that modules which only read errors, like problem-text.js, load without it.
 */

/** @import { Problem } from './api-types' */

/** An answer other than 2xx: `problem` is its problem+json body (absent when the body is not one). */
export class ApiError extends Error {
  /** @param {number} status @param {Problem | undefined} problem */
  constructor(status, problem) {
    super(problem ? `${problem.code}: ${problem.title}` : `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** The user token was refused: the page has already signed the user out. */
export class SessionEnded extends Error {}
