import { AisAccount, AisConsentAccount } from '../modules/ais/account.entity.js';
import { AisConsent } from '../modules/ais/consent.entity.js';
import { Connection } from '../modules/connections/connection.entity.js';
import { Payment, PaymentStatusChange } from '../modules/pis/payment.entity.js';

/** Every entity, listed per module as they are added. */
export const ENTITIES: (new (...args: never[]) => object)[] = [Connection, AisConsent, AisAccount, AisConsentAccount, Payment, PaymentStatusChange];
