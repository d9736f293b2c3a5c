// @ts-check
/* Step 1: the configured banks, each with the services to ask for and a Connect button. */

import { connectBank, run } from '../actions.js';
import { $, h } from '../dom.js';
import { actionButton, showError, skeleton } from '../ui.js';

/** @import { State } from '../store' */
/** @import { ServiceId } from '../api-types' */

/** @type {Record<ServiceId, string>} */
const SERVICE_NAMES = { ais: 'Accounts', pis: 'Payments' };

/** @param {State} state */
export function renderBanks(state) {
  const section = $('#banks-card');
  const list = $('#banks');
  showError(section, state.errors.banks);
  if (!state.loaded && state.aspsps.length === 0) {
    list.replaceChildren(skeleton(2));
    return;
  }
  // The service checkboxes are the user's input: keep their state across re-renders.
  /** @type {Map<string, boolean>} */
  const checked = new Map([...list.querySelectorAll('input[name=service]')].map((i) => [i.id, /** @type {HTMLInputElement} */ (i).checked]));
  list.replaceChildren(
    ...state.aspsps.map((bank) => {
      const services = bank.services.map((s) => {
        const id = `service-${bank.id}-${s}`;
        return h('label', { for: id }, h('input', { type: 'checkbox', id, name: 'service', value: s, checked: checked.get(id) ?? true }), SERVICE_NAMES[s]);
      });
      const card = h(
        'div',
        { class: 'bank', 'data-testid': 'bank', 'data-aspsp': bank.id },
        h('div', { class: 'bank-name' }, bank.name),
        h('div', { class: 'services' }, services),
      );
      const chosen = () =>
        /** @type {ServiceId[]} */ ([...card.querySelectorAll('input[name=service]:checked')].map((i) => /** @type {HTMLInputElement} */ (i).value));
      card.append(
        actionButton({
          key: `connect:${bank.id}`,
          label: `Connect ${bank.name}`,
          busyLabel: `Opening ${bank.name}…`,
          kind: 'primary',
          testid: 'connect',
          onClick: () => void run(`connect:${bank.id}`, 'banks', { bank: bank.name }, () => connectBank(bank, chosen())),
        }),
      );
      return card;
    }),
  );
}
