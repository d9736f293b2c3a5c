// @ts-check
/* The live log: status changes as the server pushed them, newest first. */

import { $, h } from '../dom.js';

/** @import { State } from '../store' */

const timeFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** @param {State} state */
export function renderEvents(state) {
  $('#events').replaceChildren(
    ...(state.events.length === 0
      ? [h('li', { class: 'empty' }, 'Nothing yet.')]
      : state.events.map((e) => h('li', { 'data-testid': 'event', 'data-type': e.type }, h('time', {}, timeFormat.format(e.at)), h('span', {}, e.text)))),
  );
}
